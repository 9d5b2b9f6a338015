/**
 * Streams over the files of one dataset export, in order. Each file is already open (and unlinked, so the bytes
 * vanish when the last handle closes); a stream closes every handle once read, or when the client goes away.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

const NEWLINE = 0x0a;
const OPEN_ARRAY = Buffer.from('[\n');
const CLOSE_ARRAY = Buffer.from(']\n');
const SEPARATOR = Buffer.from(',\n');

async function* chunksOf(handles: readonly FileHandle[]): AsyncGenerator<Buffer> {
  try {
    for (const handle of handles)
      for await (const chunk of handle.createReadStream({ autoClose: false })) yield chunk as Buffer;
  } finally {
    await Promise.all(handles.map((h) => h.close().catch(() => {})));
  }
}

/** The files one after another (CSV pieces: the first with the header, the others without). */
export function concatenatedFiles(handles: readonly FileHandle[]): Readable {
  return Readable.from(chunksOf(handles));
}

/** `chunk` with every newline turned into `,\n`. */
function separated(chunk: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, from)) {
    parts.push(chunk.subarray(from, at), SEPARATOR);
    from = at + 1;
  }
  parts.push(chunk.subarray(from));
  return Buffer.concat(parts);
}

/**
 * Newline-delimited JSON objects (one per line, each line ending in a newline; JSON text never holds a raw
 * newline) as one JSON array `[\n{...},\n{...}\n]\n`. The last newline read is held back until more follows, so it
 * is the only one that gets no comma.
 */
export function jsonArrayOfLines(handles: readonly FileHandle[]): Readable {
  return Readable.from(
    (async function* () {
      yield OPEN_ARRAY;
      let heldNewline = false;
      for await (const chunk of chunksOf(handles)) {
        if (chunk.length === 0) continue;
        if (heldNewline) yield SEPARATOR;
        heldNewline = chunk[chunk.length - 1] === NEWLINE;
        yield separated(heldNewline ? chunk.subarray(0, -1) : chunk);
      }
      if (heldNewline) yield Buffer.from('\n');
      yield CLOSE_ARRAY;
    })(),
  );
}

/** Size of jsonArrayOfLines over files of `bytes` bytes holding `rows` lines. */
export function jsonArrayBytes(bytes: number, rows: number): number {
  return OPEN_ARRAY.length + bytes + Math.max(0, rows - 1) + CLOSE_ARRAY.length;
}
