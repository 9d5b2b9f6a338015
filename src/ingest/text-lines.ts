/**
 * Splits a byte stream into text lines without a per-line promise: each decoded chunk comes out whole, with the
 * offset where its last complete line ends, so the parser walks hundreds of lines per await, in place.
 */
import { StringDecoder } from 'node:string_decoder';

/** Decoded text whose lines end before `end` (`text[end - 1]` is `\n`, except for a final unterminated line). */
export interface LineChunk {
  readonly text: string;
  readonly end: number;
}

/** Chunks of whole lines of a UTF-8 byte stream; the last line is emitted even without a final newline. */
export async function* readLineChunks(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<LineChunk> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of chunks) {
    const decoded = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    // Only the new text is searched: a line longer than a chunk grows `carry` as a rope, flattened once when its
    // newline comes, so a line of any length is read in time linear in its bytes.
    const nl = decoded.lastIndexOf('\n');
    if (nl < 0) {
      carry += decoded;
      continue;
    }
    const text = carry + decoded;
    const last = carry.length + nl;
    carry = text.slice(last + 1);
    yield { text, end: last + 1 };
  }
  carry += decoder.end();
  if (carry.length > 0) yield { text: carry, end: carry.length };
}

/** Lines (without `\n`) of a UTF-8 byte stream, in batches. */
export async function* readLineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  for await (const { text, end } of readLineChunks(chunks)) {
    const lines: string[] = [];
    for (let from = 0; from < end;) {
      let nl = text.indexOf('\n', from);
      if (nl < 0 || nl >= end) nl = end;
      lines.push(text.slice(from, nl));
      from = nl + 1;
    }
    yield lines;
  }
}

/**
 * The text of the given line numbers (1-based, ascending; `\n` ends a line, a final `\r` is kept) of a UTF-8 byte
 * stream, read in one pass that stops after the last one. Lines past the end are left out.
 */
export async function readLinesAt(
  chunks: AsyncIterable<Buffer | string>,
  wanted: readonly number[],
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (wanted.length === 0) return found;
  let next = 0;
  let line = 0;
  for await (const { text, end } of readLineChunks(chunks)) {
    for (let from = 0; from < end;) {
      let nl = text.indexOf('\n', from);
      if (nl < 0 || nl >= end) nl = end;
      line++;
      if (line === wanted[next]) {
        found.set(line, text.slice(from, nl));
        while (wanted[next] !== undefined && wanted[next]! <= line) next++;
        if (next >= wanted.length) return found;
      }
      from = nl + 1;
    }
  }
  return found;
}
