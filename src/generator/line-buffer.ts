/**
 * A growable byte buffer that text lines are rendered straight into: ASCII strings copied a char code at a time and
 * non-negative integers written as digits, with no intermediate strings. At millions of records a second, building
 * each line as a string (dozens of concatenations, then an encode) made garbage collection and the native
 * `Buffer.write` call the bottleneck; a JIT-compiled loop over short ASCII values is cheaper than either.
 */

/** Room that `reserve` guarantees: more than the longest line the generator renders (29 fields, ~400 bytes). */
export const LINE_HEADROOM = 2048;

/** Bytes of one rendered window, with the cursor; `bytes()` views them without a copy. */
export class LineBuffer {
  /** The backing store; replaced (copied) when it must grow. */
  buf: Uint8Array;
  /** Bytes written so far. */
  length = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** Makes sure at least LINE_HEADROOM bytes can be written without further checks. */
  reserve(): void {
    if (this.length + LINE_HEADROOM <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + LINE_HEADROOM));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  /** Appends one byte (a separator or a newline). */
  byte(c: number): void {
    this.buf[this.length++] = c;
  }

  /** Appends a string whose characters are all below 256 (the same bytes as a latin1 encode). */
  ascii(s: string): void {
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** Appends bytes encoded earlier (runs of 20-120 bytes: one native copy beats a byte loop). */
  copy(bytes: Uint8Array): void {
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends a non-negative safe integer in decimal (the same text as `String(n)`); anything else via String. */
  uint(n: number): void {
    if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) this.int32(n);
    else if (n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) this.large(n);
    else this.ascii(String(n));
  }

  // Ports, counters and Unix seconds (until 2038) take this path: 32-bit integer division by 10 compiles to a
  // multiplication, where the general path divides doubles.
  private int32(n: number): void {
    const digits = decimalDigits(n);
    const buf = this.buf;
    let at = this.length + digits;
    this.length = at;
    let rest = n;
    do {
      const q = (rest / 10) | 0;
      buf[--at] = 48 + (rest - q * 10);
      rest = q;
    } while (rest > 0);
  }

  private large(n: number): void {
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const buf = this.buf;
    let at = this.length + digits;
    this.length = at;
    let rest = n;
    do {
      const q = Math.floor(rest / 10);
      buf[--at] = 48 + (rest - q * 10);
      rest = q;
    } while (rest > 0);
  }

  /** The bytes written so far (a view: it changes if the buffer is written again). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Number of decimal digits of an integer 0..2^31-1 (comparisons: cheaper than dividing). */
export function decimalDigits(n: number): number {
  if (n < 100_000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : 5;
  return n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
}

/** Latin1 bytes of a string, to be written with `LineBuffer.copy`. */
export function encodeAscii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
}
