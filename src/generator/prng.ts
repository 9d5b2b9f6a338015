/**
 * A small seeded PRNG (mulberry32). The generator draws every random choice from one of these, never from
 * Math.random, so a seed reproduces a dataset byte for byte.
 */

/** A deterministic random source. */
export interface Prng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** `digits` lowercase hex characters, as in AWS resource ids. */
  hex(digits: number): string;
  /** A new independent stream derived from this one (so adding draws in one part does not shift another). */
  fork(label: string): Prng;
}

/** Creates a mulberry32 stream from a 32-bit seed. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    hex(digits) {
      let out = '';
      while (out.length < digits) out += int(0x10000).toString(16).padStart(4, '0');
      return out.slice(0, digits);
    },
    fork: (label) => createPrng(hashString(label, state)),
  };
}

/** FNV-1a 32-bit hash of a string, mixed with a seed; used for derived seeds and the 8-hex file name hash. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
