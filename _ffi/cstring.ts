// Copyright 2026 the posix-ipc authors. MIT license.
// C strings and paths.

const encoder = new TextEncoder();

/**
 * Encodes `value` as a NUL-terminated C string.
 *
 * @param value The string.
 * @param what What the string is, for the error message (`"path"`, `"argument 2"`).
 * @throws {TypeError} If the string contains a NUL character.
 */
export function cString(
  value: string,
  what = "string",
): Uint8Array<ArrayBuffer> {
  if (value.includes("\0")) {
    throw new TypeError(
      `The ${what} must not contain NUL characters: ${JSON.stringify(value)}`,
    );
  }
  const bytes = new Uint8Array(encoder.encode(value).length + 1);
  encoder.encodeInto(value, bytes);
  return bytes;
}

/** Reads a NUL-terminated C string from foreign memory. */
export function readCString(pointer: Deno.PointerObject): string {
  return Deno.UnsafePointerView.getCString(pointer);
}

/**
 * Turns a `string | URL` path argument into a path string.
 *
 * @throws {TypeError} If it is neither a non-empty string nor a `file:` URL.
 */
export function toPath(path: unknown, call: string): string {
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(
        `${call}: the path URL must be a file: URL, got "${path.href}"`,
      );
    }
    return decodeURIComponent(path.pathname);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError(
      `${call}: the path must be a non-empty string or a file: URL, got ${
        describe(path)
      }`,
    );
  }
  if (path.includes("\0")) {
    throw new TypeError(
      `${call}: the path must not contain NUL characters: ${
        JSON.stringify(path)
      }`,
    );
  }
  return path;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(
      value.length > 60 ? value.slice(0, 57) + "..." : value,
    );
  }
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    return value.constructor?.name
      ? `a ${value.constructor.name}`
      : "an object";
  }
  if (typeof value === "function") return "a function";
  return String(value);
}
