// Copyright 2026 the posix-ipc authors. MIT license.
// Sockets: a framed request/response over a Unix socket, a socket pair given
// to a child as fd 3, a pipe end passed over it, and Unix datagrams.
import { pipe, PipeWriter, spawn } from "../pipe/mod.ts";
import {
  connect,
  framed,
  listen,
  socketPair,
  UnixDatagram,
} from "../socket/mod.ts";

const text = new TextEncoder();
const dir = Deno.makeTempDirSync({ prefix: "socket-example-" });

// 1. A Unix socket server speaking framed messages; the client half-closes
//    to end its requests and still reads the replies.
{
  using listener = listen({ path: `${dir}/api.sock`, mode: 0o600 });
  const serving = (async () => {
    const { readable, writable } = framed(await listener.accept());
    const replies = writable.getWriter();
    for await (const request of readable) {
      await replies.write(
        text.encode(`${new TextDecoder().decode(request).toUpperCase()}!`),
      );
    }
    await replies.close();
  })();
  const client = framed(
    await connect({ path: `${dir}/api.sock`, timeout: 5000 }),
  );
  const requests = client.writable.getWriter();
  for (const word of ["hello", "", "framing"]) {
    await requests.write(text.encode(word));
  }
  await requests.close();
  const replies = await Array.fromAsync(
    client.readable,
    (m) => new TextDecoder().decode(m),
  );
  await serving;
  console.log(
    `framed over ${dir}/api.sock (mode 600): ${JSON.stringify(replies)}`,
  );
}

// 2. A socket pair: one end stays here, the other becomes fd 3 of a shell,
//    which reads a line and answers on the same fd.
{
  const [here, there] = socketPair();
  const child = spawn("sh", {
    args: ["-c", 'read -r line <&3; echo "sh got: $line" >&3'],
    fds: { 3: there },
  });
  const w = here.writable.getWriter();
  await w.write(text.encode("over fd 3\n"));
  w.releaseLock();
  const reply = (await here.readable.getReader().read()).value;
  console.log(
    `socketPair → child fd 3 → ${new TextDecoder().decode(reply).trim()}`,
  );
  console.log(
    `peerCredentials(): pid ${here.peerCredentials().pid} (the pair's creator, this process ${Deno.pid})`,
  );
  await child.status;
  here.close();
}

// 3. Passing a descriptor: a pipe's write end travels over a socket pair
//    (SCM_RIGHTS); the receiver adopts it and hands it to `echo` as stdout.
{
  const [here, there] = socketPair();
  const { reader, writer } = pipe();
  await here.sendFds(text.encode("x"), [writer]);
  writer.close(); // the copy in flight is the receiver's now
  const { fds } = (await there.receiveFds())!;
  const received = PipeWriter.fromFd(fds[0]!);
  await spawn("echo", {
    args: ["written through a received fd"],
    stdout: received,
  }).status;
  console.log(
    `sendFds/receiveFds → ${
      (await new Response(reader.readable).text()).trim()
    }`,
  );
  here.close();
  there.close();
}

// 4. Unix datagrams: boundaries kept, reply to the sender's path.
{
  using server = UnixDatagram.bind(`${dir}/server.dgram`);
  using client = UnixDatagram.bind(`${dir}/client.dgram`);
  for (const size of [0, 10, 60_000]) {
    await client.send(new Uint8Array(size), server.path!);
  }
  const sizes = [];
  for (let i = 0; i < 3; i++) {
    const { data, path } = await server.receive();
    sizes.push(data.length);
    await server.send(text.encode(`${data.length}`), path!);
  }
  const acks = [];
  for (let i = 0; i < 3; i++) {
    acks.push(new TextDecoder().decode((await client.receive()).data));
  }
  console.log(
    `UnixDatagram: received whole datagrams of ${
      sizes.join(", ")
    } bytes; acks ${acks.join(", ")}`,
  );
}

Deno.removeSync(dir, { recursive: true });
