// Copyright 2026 the posix-ipc authors. MIT license.
// What users see at the type level: a program using the package type-checks
// under the strictest compiler options (the package's own files are checked
// with the user's options when imported), and the bytes handed to users are
// Uint8Array<ArrayBuffer>, which crypto.subtle, Blob and Response accept.

import { assertEquals } from "@std/assert";
import { ROOT, tempDir, within } from "./_helpers.ts";

const STRICTEST = {
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noPropertyAccessFromIndexSignature: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
};

const PROGRAM = `
import * as _everything from "${ROOT}mod.ts";
import * as _cli from "${ROOT}cli/main.ts";
import { spawn } from "${ROOT}pipe/mod.ts";
import { ShmChannelReader, ShmChannelWriter } from "${ROOT}shm/mod.ts";
import { framed, socketPair } from "${ROOT}socket/mod.ts";
import { MessageQueue } from "${ROOT}mq/mod.ts";

const name = \`/types-\${crypto.randomUUID().slice(0, 8)}\`;
using writer = ShmChannelWriter.create(name, { capacity: 4096, unlinkOnClose: true });
using reader = ShmChannelReader.open(name);
const out = framed(writer).writable.getWriter();
await out.write(new TextEncoder().encode("hello"));
await out.close();
for await (const message of framed(reader).readable) {
  await crypto.subtle.digest("SHA-256", message);
}
const output = await spawn("echo", { args: ["x"], stdout: "piped" }).output();
console.log(new Blob([output.stdout]).size, await new Response(output.stderr).text());
const [a, b] = socketPair();
const got = await a.receiveFds({ timeout: 1 }).catch(() => null);
if (got) await crypto.subtle.digest("SHA-256", got.data);
for await (const chunk of b.readable) await crypto.subtle.digest("SHA-1", chunk);
a.close();
const queue = MessageQueue.create(\`\${name}-q\`, { maxMessages: 1, messageSize: 8, unlinkOnClose: true });
await queue.send(new Uint8Array(1));
const message = await queue.receive();
await crypto.subtle.digest("SHA-256", message.data);
queue.close();
`;

Deno.test("a program using the package (and the ipc command's module) passes deno check with the strictest compiler options", async () => {
  using dir = tempDir();
  // The package's import map (the ipc command imports @std/cli).
  const { imports } = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  );
  Deno.writeTextFileSync(
    `${dir.path}/deno.json`,
    JSON.stringify({ compilerOptions: STRICTEST, imports }),
  );
  Deno.writeTextFileSync(`${dir.path}/user.ts`, PROGRAM);
  const out = await within(
    new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "user.ts"],
      cwd: dir.path,
      stdout: "piped",
      stderr: "piped",
    }).output(),
    120_000,
    "deno check of the program",
  );
  const errors = new TextDecoder().decode(out.stderr)
    // deno-lint-ignore no-control-regex
    .replace(/\x1b\[[0-9;]*m/g, "");
  assertEquals({ code: out.code, errors }, { code: 0, errors: "" });
});
