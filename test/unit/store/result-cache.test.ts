/** The result cache's own rules: recency eviction by size, one run for identical requests in flight, no kept failures. */
import { describe, expect, it } from 'vitest';
import { paramsKey, ResultCache, scopeKey } from '../../../src/store/result-cache.ts';

/** A compute function that counts its runs and resolves when told to. */
function gate<V>(value: V) {
  let runs = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((ok) => (open = ok));
  return { compute: async () => (runs++, await opened, value), open, runs: () => runs };
}

describe('ResultCache', () => {
  it('keeps an answer and gives it back as a hit', async () => {
    const cache = new ResultCache(1000);
    let runs = 0;
    const compute = async () => ++runs;
    expect(await cache.get('k', compute, () => 10)).toEqual({ value: 1, outcome: 'miss' });
    expect(await cache.get('k', compute, () => 10)).toEqual({ value: 1, outcome: 'hit' });
    expect(await cache.get('other', compute, () => 10)).toEqual({ value: 2, outcome: 'miss' });
    expect(cache.size).toBe(20);
  });

  it('runs identical requests in flight once', async () => {
    const cache = new ResultCache(1000);
    const g = gate('answer');
    const all = Promise.all([1, 2, 3].map(() => cache.get('k', g.compute, () => 10)));
    g.open();
    expect((await all).map((r) => [r.value, r.outcome])).toEqual([
      ['answer', 'miss'],
      ['answer', 'shared'],
      ['answer', 'shared'],
    ]);
    expect(g.runs()).toBe(1);
  });

  it('drops the least recently used answers past its size, and never keeps one over a quarter of it', async () => {
    const cache = new ResultCache(100);
    for (const k of ['a', 'b', 'c'])
      await cache.get(
        k,
        async () => k,
        () => 25,
      );
    await cache.get(
      'a',
      async () => 'again',
      () => 25,
    ); // a is now the most recent
    await cache.get(
      'd',
      async () => 'd',
      () => 25,
    );
    await cache.get(
      'e',
      async () => 'e',
      () => 25,
    ); // 125 > 100: b, the least recent, goes
    expect(cache.size).toBe(100);
    expect(
      (
        await cache.get(
          'b',
          async () => 'b2',
          () => null,
        )
      ).outcome,
    ).toBe('miss');
    expect(
      (
        await cache.get(
          'a',
          async () => 'x',
          () => 25,
        )
      ).outcome,
    ).toBe('hit');
    await cache.get(
      'big',
      async () => 'big',
      () => 26,
    );
    expect(
      (
        await cache.get(
          'big',
          async () => 'big2',
          () => 26,
        )
      ).value,
    ).toBe('big2');
  });

  it('does not keep failures: the next request runs again', async () => {
    const cache = new ResultCache(1000);
    await expect(
      cache.get(
        'k',
        () => Promise.reject(new Error('DuckDB said no')),
        () => 1,
      ),
    ).rejects.toThrow('DuckDB said no');
    expect(
      await cache.get(
        'k',
        async () => 'ok',
        () => 1,
      ),
    ).toEqual({ value: 'ok', outcome: 'miss' });
  });

  it('with no memory keeps nothing but still shares a run in flight', async () => {
    const cache = new ResultCache(0);
    const g = gate(7);
    const both = Promise.all([cache.get('k', g.compute, () => 1), cache.get('k', g.compute, () => 1)]);
    g.open();
    expect((await both).map((r) => r.outcome)).toEqual(['miss', 'shared']);
    expect(
      (
        await cache.get(
          'k',
          async () => 8,
          () => 1,
        )
      ).outcome,
    ).toBe('miss');
    expect(cache.size).toBe(0);
  });
});

describe('key parts', () => {
  it('spell 64-bit integers, dates and lists exactly, and sort a tenant allow-list', () => {
    expect(paramsKey([9007199254740993n, new Date('2024-05-01T00:00:00Z'), ['a', 'b'], null])).toBe(
      '["9007199254740993n","2024-05-01T00:00:00.000Z",["a","b"],null]',
    );
    expect(paramsKey([9007199254740993n])).not.toBe(paramsKey([9007199254740992n]));
    expect(scopeKey(['222222222222', '111111111111'])).toBe('111111111111,222222222222');
    expect(scopeKey(null)).toBe('*');
    expect(() => paramsKey([new Set(['a'])])).toThrow('a cache key cannot hold a Set or a Map');
  });
});
