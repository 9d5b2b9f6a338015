/**
 * Lines holding bytes no flow log has: a NUL, or a byte sequence that is not UTF-8. DuckDB's CSV reader loads such a
 * line as a record with a changed value (a NUL kept inside an interface id, an invalid byte turned into '?'), so the
 * ingester finds them itself and rejects exactly those lines, naming the byte, its column and field; the rest of the
 * object loads. The scan of a clean object (the usual case) is one pass of C++ checks over the decompressed bytes.
 */
import { isUtf8 } from 'node:buffer';
import { openDecoded, type DecodedStream } from './decoded-stream.ts';
import type { RejectRow } from './text-load-result.ts';

/** Longest reject text kept for a damaged line. */
const MAX_TEXT = 1000;

/** Large chunks in both steps: each is one C++ search (a NUL, isUtf8, a newline), so fewer chunks cost less. */
function bytesOf(path: string, gzip: boolean): DecodedStream {
  return openDecoded(path, gzip, { readBytes: 256 * 1024, gunzipBytes: 256 * 1024 });
}

/** Length of `buf` without a multi-byte UTF-8 character cut off at its end (at most 3 bytes shorter). */
function wholeCharacters(buf: Buffer): number {
  let i = buf.length;
  // Step back over continuation bytes (10xxxxxx) to the lead byte of the last character.
  while (i > 0 && buf.length - i < 3 && (buf[i - 1]! & 0xc0) === 0x80) i--;
  if (i === 0) return buf.length;
  const lead = buf[i - 1]!;
  const needs = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - (i - 1) < needs ? i - 1 : buf.length;
}

/** True when a (possibly gzip) local file holds a NUL or invalid UTF-8 anywhere. Throws on a read or gzip failure. */
export async function hasDamagedBytes(path: string, gzip: boolean): Promise<boolean> {
  const { bytes, close } = bytesOf(path, gzip);
  let carry: Buffer | null = null;
  try {
    for await (const chunk of bytes) {
      const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
      if (buf.includes(0)) return true;
      const cut = wholeCharacters(buf);
      if (!isUtf8(buf.subarray(0, cut))) return true;
      carry = cut < buf.length ? Buffer.from(buf.subarray(cut)) : null;
    }
    return carry !== null; // the file ends inside a character
  } finally {
    close();
  }
}

/** Offset of the first byte of `line` that is a NUL or not part of a valid UTF-8 sequence, or -1. */
export function firstBadByte(line: Buffer): number {
  for (let i = 0; i < line.length;) {
    const b = line[i]!;
    if (b === 0) return i;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > line.length || !isUtf8(line.subarray(i, i + n))) return i;
    i += n;
  }
  return -1;
}

/** The reject of a damaged line: which byte, where, in which field of `names` (the object's layout). */
export function damagedLineReject(lineNo: number, line: Buffer, at: number, names: readonly string[]): RejectRow {
  const before = line.subarray(0, at).toString('latin1');
  const tokens = before.split(/[ \t]+/).filter((t) => t !== '');
  // The byte sits in the last token when no space separates them, else in the next one.
  const index = /[ \t]$/.test(before) || tokens.length === 0 ? tokens.length : tokens.length - 1;
  const field = names[index] ?? null;
  const what = line[at] === 0 ? 'a NUL byte' : `byte 0x${line[at]!.toString(16).padStart(2, '0')} is not valid UTF-8`;
  // The text shows every byte: NULs and invalid bytes as \xNN escapes, the rest as text.
  let text = '';
  for (let i = 0; i < line.length && text.length < MAX_TEXT;) {
    const bad = firstBadByte(line.subarray(i));
    if (bad < 0) {
      text += line.subarray(i).toString('utf8');
      break;
    }
    text += `${line.subarray(i, i + bad).toString('utf8')}\\x${line[i + bad]!.toString(16).padStart(2, '0')}`;
    i += bad + 1;
  }
  return {
    line: lineNo,
    field,
    reason: `${field === null ? '' : `${field}: `}${what} (byte ${at + 1} of the line)`,
    text: text.replace(/\r$/, '').slice(0, MAX_TEXT),
  };
}

/**
 * Every damaged line of a (possibly gzip) local file, numbered from 1 as the object's own lines (LF-separated). The
 * first `keepTexts` keep their text; later ones keep line, field and reason only (the ledger keeps the first rejects
 * of an object, and a file of binary junk has millions of "lines"). A line's pieces are joined once, at its end, so a
 * long line costs time linear in its bytes.
 */
export async function findDamagedLines(
  path: string,
  gzip: boolean,
  names: readonly string[],
  keepTexts = 10_000,
): Promise<RejectRow[]> {
  const { bytes, close } = bytesOf(path, gzip);
  const found: RejectRow[] = [];
  let lineNo = 0;
  let pieces: Buffer[] = [];
  const check = (line: Buffer) => {
    lineNo++;
    const at = firstBadByte(line);
    if (at < 0) return;
    const reject = damagedLineReject(lineNo, line, at, names);
    found.push(found.length < keepTexts ? reject : { ...reject, text: '' });
  };
  try {
    for await (const chunk of bytes) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        const end = chunk.subarray(from, nl);
        check(pieces.length === 0 ? end : Buffer.concat([...pieces, end]));
        pieces = [];
        from = nl + 1;
      }
      if (from < chunk.length) pieces.push(Buffer.from(chunk.subarray(from)));
    }
    if (pieces.length > 0) check(Buffer.concat(pieces));
    return found;
  } finally {
    close();
  }
}
