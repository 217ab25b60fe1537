// Copyright 2026 the posix-ipc authors. MIT license.
// The one byte-stream adapter: a ReadableStream of type "bytes" (BYOB
// readers supported) over a source that reads into a given buffer, with a
// synchronous fast path so that no promise is made when bytes are there.

/** A source of bytes for {@linkcode byteReadable}. */
export interface ByteSource {
  /**
   * Reads what is there into `view` without waiting: the byte count, null at
   * end of stream, or undefined when nothing is there yet.
   */
  tryRead(view: Uint8Array): number | null | undefined;
  /** Reads into `view`, waiting: the byte count, or null at end of stream. */
  read(view: Uint8Array): Promise<number | null>;
  /** Called once when the stream is finished: EOF, cancel or error. */
  done(): void;
}

/** Size of the buffers allocated for default (non-BYOB) reads. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** A `ReadableStream<Uint8Array>` of type `"bytes"` over `source`. */
export function byteReadable(
  source: ByteSource,
  chunkSize = DEFAULT_CHUNK_SIZE,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    source.done();
  };
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: chunkSize,
    pull(controller: ReadableByteStreamController) {
      const request = controller.byobRequest!;
      const view = request.view!;
      const bytes = new Uint8Array(
        view.buffer,
        view.byteOffset,
        view.byteLength,
      );
      const respond = (n: number | null) => {
        if (n === null) {
          finish();
          controller.close();
          request.respond(0);
        } else {
          request.respond(n);
        }
      };
      const fail = (error: unknown): never => {
        finish();
        throw error;
      };
      let n: number | null | undefined;
      try {
        n = source.tryRead(bytes);
      } catch (error) {
        fail(error);
      }
      if (n !== undefined) return respond(n);
      return source.read(bytes).then(respond, fail);
    },
    cancel() {
      finish();
    },
  }) as ReadableStream<Uint8Array<ArrayBuffer>>;
}
