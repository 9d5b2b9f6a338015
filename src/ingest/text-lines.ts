/**
 * Splits a byte stream into text lines without a per-line promise: each decoded chunk yields the array of complete
 * lines it finishes, so the parser loops synchronously over hundreds of lines per await.
 */
import { StringDecoder } from 'node:string_decoder';

/** Lines (without `\n`) of a UTF-8 byte stream, in batches; the last line is emitted even without a final newline. */
export async function* readLineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const lines: string[] = [];
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      lines.push(text.slice(from, nl));
      from = nl + 1;
    }
    carry = text.slice(from);
    if (lines.length > 0) yield lines;
  }
  carry += decoder.end();
  if (carry.length > 0) yield [carry];
}
