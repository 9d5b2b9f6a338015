/**
 * A local text object as the bytes its lines are made of: the file, gunzipped when the object is gzip (sniffed from
 * its bytes by the caller, not from its name). Every Node pass over a text object's bytes reads through this.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** The decoded bytes of a file, and how to let go of it. */
export interface DecodedStream {
  readonly bytes: AsyncIterable<Buffer>;
  /** Closes the file and the gunzip stream; call it in a `finally`, also after reading to the end. */
  close(): void;
}

/** Chunk sizes of a pass: bigger chunks make fewer, longer byte searches (the scans), the defaults suit the rest. */
export interface ChunkSizes {
  /** Bytes per read of the file. */
  readonly readBytes: number;
  /** Bytes per decompressed chunk of a gzip file; zlib's default (16 KiB) when not given. */
  readonly gunzipBytes?: number;
}

/**
 * Opens a (possibly gzip) local file as its decoded bytes. close() destroys both streams because neither takes the
 * other down: `pipe` does not destroy the file when the gunzip stream fails or is destroyed, and leaving a `for await`
 * early (a scan that has seen enough, or a throw) destroys only the stream it iterates. Destroying only one would
 * leave the file's descriptor open, the file paused mid-read, for as long as the process runs.
 */
export function openDecoded(path: string, gzip: boolean, chunks: ChunkSizes): DecodedStream {
  const file = createReadStream(path, { highWaterMark: chunks.readBytes });
  const stream = gzip
    ? file.pipe(chunks.gunzipBytes === undefined ? createGunzip() : createGunzip({ chunkSize: chunks.gunzipBytes }))
    : file;
  return {
    bytes: stream as AsyncIterable<Buffer>,
    close() {
      file.destroy();
      stream.destroy();
    },
  };
}
