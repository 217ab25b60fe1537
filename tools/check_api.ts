/**
 * `deno task check`'s API check: every public symbol and method a user can
 * reach at run time is visible, documented and exemplified in
 * `deno doc --json`.
 *
 * For each entry point of `deno.json`'s `exports`, it imports the module and
 * walks what is really exported — functions, classes with their static and
 * prototype members (getters included), constants — and fails on any one
 * that `deno doc --json` does not show, shows without JSDoc, or (for a
 * top-level symbol) shows without a titled `@example`. A member kept
 * internal on purpose starts with `_` or is `#private`, and is skipped.
 *
 * Run: `deno run -A tools/check_api.ts`. Exit status 1 lists the gaps.
 *
 * @module
 */

interface JsDocTag {
  kind: string;
  doc?: string;
}
interface JsDoc {
  doc?: string;
  tags?: JsDocTag[];
}
interface Member {
  name: string;
  isStatic?: boolean;
  kind?: string;
  jsDoc?: JsDoc;
}
interface Declaration {
  kind: string;
  jsDoc?: JsDoc;
  def?: {
    methods?: Member[];
    properties?: Member[];
    constructors?: Member[];
  };
}
interface DocSymbol {
  name: string;
  declarations: Declaration[];
}

const root = new URL("../", import.meta.url);
const config = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", root)),
) as { exports: Record<string, string> };

const problems: string[] = [];
let checked = 0;

for (const [entry, file] of Object.entries(config.exports)) {
  const url = new URL(file, root);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", url.pathname],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) {
    problems.push(`${entry}: deno doc --json failed`);
    continue;
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols: DocSymbol[] }>;
  };
  const symbols = new Map<string, DocSymbol>();
  for (const node of Object.values(json.nodes)) {
    for (const symbol of node.symbols) symbols.set(symbol.name, symbol);
  }
  // The cli entry point is a program; importing it would run it.
  if (entry === "./cli") continue;
  const module = await import(url.href) as Record<string, unknown>;
  for (const [name, value] of Object.entries(module)) {
    checked++;
    const where = `${entry} ${name}`;
    const symbol = symbols.get(name);
    if (symbol === undefined) {
      problems.push(`${where}: exported but not in deno doc --json`);
      continue;
    }
    const declaration = symbol.declarations.find((d) => d.jsDoc?.doc) ??
      symbol.declarations[0];
    if (!declaration?.jsDoc?.doc) {
      problems.push(`${where}: no JSDoc`);
    }
    const examples = symbol.declarations.flatMap((d) => d.jsDoc?.tags ?? [])
      .filter((t) => t.kind === "example");
    if (examples.length === 0) {
      problems.push(`${where}: no @example`);
    } else if (examples.some((t) => !/^(?!```)[^\n]+\n/.test(t.doc ?? ""))) {
      problems.push(`${where}: an @example without a title`);
    }
    if (typeof value !== "function" || !value.prototype) continue;
    const classDecl = symbol.declarations.find((d) => d.kind === "class");
    if (classDecl === undefined) continue;
    const documented = new Map<string, Member>();
    for (const m of classDecl.def?.methods ?? []) {
      documented.set(`${m.isStatic ? "static " : ""}${m.name}`, m);
    }
    for (const m of classDecl.def?.properties ?? []) {
      documented.set(`${m.isStatic ? "static " : ""}${m.name}`, m);
    }
    const runtime = [
      ...memberNames(value.prototype, ""),
      ...memberNames(value, "static "),
    ];
    for (const member of runtime) {
      checked++;
      const doc = documented.get(member);
      if (doc === undefined) {
        problems.push(
          `${where}.${member}: public at run time, not in deno doc`,
        );
      } else if (!doc.jsDoc?.doc) {
        problems.push(`${where}.${member}: no JSDoc`);
      }
    }
  }
}

function memberNames(object: object, prefix: string): string[] {
  const skip = prefix
    ? new Set(["length", "name", "prototype"])
    : new Set(["constructor"]);
  const names: string[] = [];
  for (const key of Reflect.ownKeys(object)) {
    if (typeof key === "symbol") {
      const description = key.description ?? "";
      if (description.startsWith("Symbol.")) {
        names.push(`${prefix}[${description}]`);
      }
      continue;
    }
    if (skip.has(key) || key.startsWith("_")) continue;
    names.push(prefix + key);
  }
  return names;
}

if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(
    `check_api: ${problems.length} problem(s) in ${checked} symbols and members`,
  );
  Deno.exit(1);
}
console.log(
  `check_api: ${checked} public symbols and members, all documented with examples`,
);
