/**
 * Detects what an input object holds from its first bytes, because AWS delivers plain text and Parquet under the
 * same prefixes and names can lie (flow-logs.md §5.6): magic bytes first (gzip 1f 8b, Parquet `PAR1`), then a look
 * inside (gunzipping the prefix if needed) for a JSON CloudWatch Logs payload versus text.
 */
import { constants, inflateRawSync, gunzipSync } from 'node:zlib';

/** What an input holds. `gzip-text` is AWS's S3 text format; `cloudwatch` a (possibly gzipped) subscription payload. */
export type InputFormat = 'gzip-text' | 'text' | 'parquet' | 'cloudwatch';

/** Bytes to read before sniffing: enough for a gzip header plus some text, and for a UTF-8 check. */
export const SNIFF_BYTES = 4096;

/** True for gzip's magic number followed by its only compression method, deflate (8). */
export function isGzip(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8;
}

/** Gunzips as much of a prefix as possible (a prefix is a truncated stream, so no end-of-stream is required). */
function gunzipPrefix(bytes: Buffer): Buffer | undefined {
  try {
    return gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    // gunzipSync rejects some prefixes outright; skip the 10-byte header (no optional fields) and inflate raw.
    try {
      return bytes[3] === 0 ? inflateRawSync(bytes.subarray(10), { finishFlush: constants.Z_SYNC_FLUSH }) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** True when the bytes are UTF-8 text without NULs (a multi-byte character cut at the end is allowed). */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(bytes.subarray(0, Math.max(0, bytes.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/** The first non-whitespace character of the text, or '' when there is none. */
function firstChar(bytes: Buffer): string {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return String.fromCharCode(b);
  return '';
}

/** Classifies an input from its first bytes (up to SNIFF_BYTES); `unknown` is binary that is neither. */
export async function sniffInput(firstBytes: Buffer): Promise<InputFormat | 'unknown'> {
  if (firstBytes.length >= 4 && firstBytes.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (isGzip(firstBytes)) {
    const inner = gunzipPrefix(firstBytes);
    if (inner === undefined) return 'unknown';
    if (firstChar(inner) === '{') return 'cloudwatch';
    return isText(inner) ? 'gzip-text' : 'unknown';
  }
  if (firstChar(firstBytes) === '{') return 'cloudwatch';
  return isText(firstBytes) ? 'text' : 'unknown';
}
