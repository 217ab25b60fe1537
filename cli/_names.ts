// Copyright 2026 the posix-ipc authors. MIT license.
// Internal: names as the kernel has them (bytes) and as `ipc` prints them.
//
// Any user can create a name in /dev/shm, /dev/mqueue or /tmp. A name may
// hold a newline (a forged row in a table), ESC or C1 controls (terminal
// escape sequences), bidirectional overrides (text that reads differently
// from what it is), or bytes that are not UTF-8 at all. Names are read as
// bytes and printed escaped, so that what the administrator sees is the name
// and nothing else:
//
// - `\\` for a backslash, `\n` `\t` `\r` `\e` `\0`, `\xNN` for other control
//   bytes and for every byte that is not part of valid UTF-8;
// - `\u{NNNN}` for C1 controls, DEL's neighbours, bidirectional controls and
//   line/paragraph separators.
//
// The escaped form is unambiguous: two different names never print the same.

const encoder = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a string (no NUL check: callers pass names from argv or the kernel). */
export function toBytes(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** The string of valid UTF-8 bytes, or null when they are not valid UTF-8. */
export function utf8(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** Code points printed as `\u{…}` (besides C0 controls and DEL). */
function unsafeCodePoint(cp: number): boolean {
  return (cp >= 0x80 && cp <= 0x9f) || // C1 controls (CSI is 0x9b)
    cp === 0x061c || cp === 0x200e || cp === 0x200f || // bidi marks
    (cp >= 0x202a && cp <= 0x202e) || // bidi embeddings and overrides
    (cp >= 0x2066 && cp <= 0x2069) || // bidi isolates
    cp === 0x2028 || cp === 0x2029 || // line and paragraph separators
    cp === 0xfeff; // zero-width no-break space (BOM)
}

const C0: Readonly<Record<number, string>> = {
  0x00: "\\0",
  0x09: "\\t",
  0x0a: "\\n",
  0x0d: "\\r",
  0x1b: "\\e",
};

function hex(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Decodes one UTF-8 sequence at `i`: [code point, length], or null when the
 * bytes there are not a valid, shortest-form sequence.
 */
function decodeAt(bytes: Uint8Array, i: number): [number, number] | null {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return [b0, 1];
  let length: number;
  let cp: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
    cp = b0 & 0x1f;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    cp = b0 & 0x0f;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return null;
  }
  if (i + length > bytes.length) return null;
  for (let k = 1; k < length; k++) {
    const b = bytes[i + k]!;
    if ((b & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return [cp, length];
}

/**
 * A name as `ipc` prints it: printable text stays, everything else is
 * escaped (see the top of this file). Takes the kernel's bytes or a string.
 */
export function escapeName(name: Uint8Array | string): string {
  const bytes = typeof name === "string" ? toBytes(name) : name;
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const decoded = decodeAt(bytes, i);
    if (decoded === null) {
      out += hex(bytes[i]!);
      i++;
      continue;
    }
    const [cp, length] = decoded;
    if (cp === 0x5c) out += "\\\\";
    else if (cp < 0x20 || cp === 0x7f) out += C0[cp] ?? hex(cp);
    else if (unsafeCodePoint(cp)) {
      out += `\\u{${cp.toString(16).padStart(4, "0")}}`;
    } else out += String.fromCodePoint(cp);
    i += length;
  }
  return out;
}

/**
 * A name for JSON: the name itself when it is valid UTF-8 (JSON escapes its
 * control characters), else its escaped form and `utf8: false`.
 */
export function jsonName(
  bytes: Uint8Array,
): { text: string; utf8: boolean } {
  const text = utf8(bytes);
  return text === null
    ? { text: escapeName(bytes), utf8: false }
    : { text, utf8: true };
}

/**
 * `JSON.stringify` with the characters it leaves raw but a terminal may act
 * on (DEL, C1 controls, bidirectional controls, separators) written as
 * `\uNNNN` escapes: the same JSON value, safe to print.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
