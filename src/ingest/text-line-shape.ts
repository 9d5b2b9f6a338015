/**
 * What a text object's own line numbering (`\n` ends a line) says about it, in one pass of byte searches: how many
 * lines, which are empty (DuckDB's reader skips them, so its row numbers shift), whether a lone carriage return could
 * make the reader number lines differently, and whether a byte could start a separator the SQL check must test.
 */
import { TOKEN_SEPARATORS } from './line-parser.ts';
import { openDecoded } from './decoded-stream.ts';

/** What the object's own line numbering (`\n` ends a line) says about a (possibly gzip) local file. */
export interface LineShape {
  /** Lines: newlines plus an unterminated last line. */
  readonly lines: number;
  /** Numbers of the empty lines (nothing, or only a carriage return, before the newline), which the reader skips. */
  readonly empty: readonly number[];
  /** A carriage return not followed by a newline, which DuckDB's reader may take as a line break. */
  readonly loneReturn: boolean;
  /** A byte that may start a token separator other than space and line ends (a tab, VT, FF, a non-ASCII lead byte). */
  readonly separatorBytes: boolean;
}

/**
 * First bytes of the UTF-8 encodings of the line parser's separators, but space, LF and CR (line ends are counted,
 * a lone CR is caught apart): an object holding none of them has no token the SQL separator test could refuse.
 */
const SEPARATOR_LEAD_BYTES: readonly number[] = (() => {
  const lead = new Set<number>();
  for (const [from, to] of TOKEN_SEPARATORS) {
    for (let cp = from; cp <= to; cp++) lead.add(Buffer.from(String.fromCodePoint(cp), 'utf8')[0]!);
  }
  for (const b of [0x0a, 0x0d, 0x20]) lead.delete(b);
  return [...lead].sort((a, b) => a - b);
})();

/** Counts the lines of a (possibly gzip) local file in one pass of byte searches. */
export async function lineShape(path: string, gzip: boolean): Promise<LineShape> {
  const { bytes, close } = openDecoded(path, gzip, { readBytes: 256 * 1024 });
  let newlines = 0;
  let returns = 0;
  let crlf = 0;
  let last = -1;
  let offset = 0; // of the current chunk in the file
  let lineStart = 0; // offset of the current line's first byte
  const empty: number[] = [];
  let separatorBytes = false;
  try {
    for await (const buf of bytes) {
      if (buf.length === 0) continue;
      if (!separatorBytes) separatorBytes = SEPARATOR_LEAD_BYTES.some((b) => buf.includes(b));
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
        newlines++;
        const cr = (i > 0 ? buf[i - 1] : last) === 13;
        if (cr) crlf++;
        const length = offset + i - lineStart;
        if (length === 0 || (length === 1 && cr)) empty.push(newlines);
        lineStart = offset + i + 1;
      }
      for (let i = buf.indexOf(13); i >= 0; i = buf.indexOf(13, i + 1)) returns++;
      last = buf[buf.length - 1]!;
      offset += buf.length;
    }
  } finally {
    close();
  }
  const lines = newlines + (last === -1 || last === 10 ? 0 : 1);
  return { lines, empty, loneReturn: returns !== crlf || last === 13, separatorBytes };
}
