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
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      carry = text;
      continue;
    }
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
