/**
 * One pass over a text object's (decompressed) bytes before it is loaded: its head (for the flow-log verdict and the
 * header line), its line count, and whether it is *plain*: printable ASCII with LF line ends and no empty line, no NUL,
 * tab, VT, FF or carriage return. A plain object's lines are exactly the rows DuckDB's CSV reader returns, in order, so
 * objects of one layout can be read by one statement and numbered by position (ingest-load-text.ts loadTextGroup);
 * anything else (the rare object) goes through the one-object path with its own checks. Every test here is a C++ byte
 * search, and the pass is the object's only decompression in Node.
 *
 * The pass can also keep what it decompressed (`decodedCopy`): a plain gzip object's bytes written as they stream by,
 * so that DuckDB reads the object without inflating it a second time. Inflating bench:ingest's 399 objects (404 MB of
 * text) cost DuckDB's reader 0.42 CPU s of its 0.90 (its zlib is slower than Node's), writing them 0.1.
 */
import { isAscii } from 'node:buffer';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { openDecoded } from './decoded-stream.ts';

/** Decompressed bytes kept as the head: enough for the verdict's lines, bounded for a line-less file. */
export const HEAD_BYTES = 64 * 1024;

/** What the pass found. */
export interface TextScan {
  /** The decoded start of the object (at most HEAD_BYTES bytes). */
  readonly head: string;
  /** True when `head` is the whole object. */
  readonly complete: boolean;
  /** True for a plain object (see the top of this file). */
  readonly plain: boolean;
  /** Lines (`\n` ends one; an unterminated last line counts); null when the pass stopped early (not plain). */
  readonly lines: number | null;
  /** The decompressed copy asked for (`decodedCopy`), written whole; null when none was (see scanTextObject). */
  readonly decoded: string | null;
}

/**
 * A decompressed copy is kept only up to this size: staging holds the copies of the objects waiting for their group,
 * about ten times their gzip size, and a larger object is read from its gzip file as before.
 */
export const DECODED_COPY_MAX_BYTES = 256 * 1024 * 1024;

/** Bytes that make an object not plain besides non-ASCII ones: NUL, tab, VT, FF, CR (LF and space are expected). */
const NOT_PLAIN_BYTES = [0x00, 0x09, 0x0b, 0x0c, 0x0d] as const;

/**
 * Scans a (possibly gzip) local file. Throws on a read or gzip failure (a truncated object), which the caller reports
 * as a failed object. Stops early once the object is known not to be plain and the head is read. `decodedCopy`: for a
 * gzip object, the path to write its decompressed bytes to; the copy is kept (`decoded`) only for a plain object of at
 * most DECODED_COPY_MAX_BYTES, else removed.
 */
export async function scanTextObject(path: string, gzip: boolean, decodedCopy?: string): Promise<TextScan> {
  // Opened before the streams: nothing may be awaited between starting them and listening to them (a gunzip that
  // fails at once, a truncated object, would raise its error to no one, an uncaught exception).
  let copy: FileHandle | null =
    gzip && decodedCopy !== undefined ? await open(decodedCopy, 'w').catch(() => null) : null;
  // Large chunks in both steps: every test is a C++ byte search per chunk, so fewer chunks cost less.
  const { bytes, close } = openDecoded(path, gzip, { readBytes: 256 * 1024, gunzipBytes: 256 * 1024 });
  const head: Buffer[] = [];
  let headBytes = 0;
  let plain = true;
  let newlines = 0;
  let last = -1; // the last byte seen
  let complete = true;
  let copied = 0;
  // Stops the copy for good (an object not plain, too large, or a failed write), removing what was written.
  const dropCopy = async () => {
    await copy?.close().catch(() => {});
    copy = null;
    await rm(decodedCopy!, { force: true });
  };
  // A copy that cannot be written (a full disk) is only a loss of speed: the object is read from its own file.
  const append = async (buf: Buffer) => {
    try {
      for (let at = 0; at < buf.length;) at += (await copy!.write(buf, at)).bytesWritten;
    } catch {
      await dropCopy();
    }
  };
  try {
    for await (const buf of bytes) {
      if (buf.length === 0) continue;
      if (headBytes < HEAD_BYTES) {
        const take = buf.subarray(0, HEAD_BYTES - headBytes);
        head.push(Buffer.from(take));
        headBytes += take.length;
      }
      if (plain) plain = isAscii(buf) && NOT_PLAIN_BYTES.every((b) => !buf.includes(b));
      if (plain) {
        // An empty line: a newline right after another, or at the start of the file (`last` is -1 there).
        for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) {
          const before = i === 0 ? last : buf[i - 1];
          if (before === 10 || before === -1) plain = false;
          newlines++;
        }
      }
      last = buf[buf.length - 1]!;
      if (copy !== null) {
        copied += buf.length;
        if (plain && copied <= DECODED_COPY_MAX_BYTES) await append(buf);
        else await dropCopy();
      }
      if (!plain && headBytes >= HEAD_BYTES) {
        complete = false;
        break;
      }
    }
  } catch (err) {
    close(); // before anything is awaited, as above
    if (copy !== null) await dropCopy();
    throw err;
  } finally {
    close();
  }
  if (copy !== null) {
    if (plain) await copy.close().catch(dropCopy);
    else await dropCopy();
  }
  const all = Buffer.concat(head);
  return {
    head: all.toString('utf8'),
    complete: complete && headBytes < HEAD_BYTES,
    plain,
    lines: plain ? newlines + (last === -1 || last === 10 ? 0 : 1) : null,
    decoded: copy !== null && plain ? decodedCopy! : null,
  };
}
