/** The fair statement queue: slots, round robin between clients, first come first served between a client's requests, a client's share, leaving the queue on abort. */
import { describe, expect, it } from 'vitest';
import { StatementQueue, type Owner, type ReleaseSlot } from '../../../src/store/statement-queue.ts';

/** Acquires for `owner` and records the order in which slots are granted. */
function track(queue: StatementQueue, granted: string[]) {
  const held = new Map<string, ReleaseSlot>();
  const ask = (owner: Owner, label: string, signal?: AbortSignal, request?: Owner) =>
    queue.acquire(owner, signal, request).then((release) => {
      granted.push(label);
      held.set(label, release);
    });
  return { ask, release: (label: string) => held.get(label)!() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('StatementQueue', () => {
  it("serves owners in turn: B's one statement is next after A's first, not after all of A's", async () => {
    const queue = new StatementQueue(2, 1);
    const granted: string[] = [];
    const { ask, release } = track(queue, granted);
    const [a, b] = [{}, {}];
    for (let i = 1; i <= 5; i++) void ask(a, `a${i}`);
    void ask(b, 'b1');
    await tick();
    // Two slots, one each at most: a1 and b1 run, a2..a5 wait.
    expect(granted).toEqual(['a1', 'b1']);
    expect([queue.running, queue.waiting]).toEqual([2, 4]);
    release('b1');
    await tick();
    expect(granted).toEqual(['a1', 'b1']); // a is at its share: the free slot stays free for someone else
    release('a1');
    await tick();
    expect(granted).toEqual(['a1', 'b1', 'a2']);
  });

  it('rotates between three owners as slots free up', async () => {
    const queue = new StatementQueue(1);
    const granted: string[] = [];
    const { ask, release } = track(queue, granted);
    const [a, b, c] = [{}, {}, {}];
    for (const [o, l] of [
      [a, 'a1'],
      [a, 'a2'],
      [a, 'a3'],
      [b, 'b1'],
      [b, 'b2'],
      [c, 'c1'],
    ] as const)
      void ask(o, l);
    for (let i = 0; i < 6; i++) {
      await tick();
      release(granted.at(-1)!);
    }
    await tick();
    expect(granted).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });

  it('drops a waiting statement whose signal aborts, with the abort reason', async () => {
    const queue = new StatementQueue(1);
    const granted: string[] = [];
    const { ask, release } = track(queue, granted);
    const controller = new AbortController();
    void ask({}, 'first');
    const dropped = ask({}, 'second', controller.signal).catch((e: unknown) => e);
    await tick();
    controller.abort('stopped');
    expect(await dropped).toBe('stopped');
    expect([queue.running, queue.waiting]).toEqual([1, 0]);
    release('first');
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
    await expect(queue.acquire({}, AbortSignal.abort('late'))).rejects.toBe('late');
  });

  it("gives a client with many requests one client's turns, serving its oldest request first", async () => {
    const queue = new StatementQueue(1);
    const granted: string[] = [];
    const { ask, release } = track(queue, granted);
    const [r1, r2, r3, b1] = [{}, {}, {}, {}];
    // Client A floods with three requests of two statements each; client B has one request of three.
    for (const [req, l] of [
      [r1, 'a1.1'],
      [r1, 'a1.2'],
      [r2, 'a2.1'],
      [r2, 'a2.2'],
      [r3, 'a3.1'],
      [r3, 'a3.2'],
    ] as const)
      void ask('key a', l, undefined, req);
    for (const l of ['b1', 'b2', 'b3']) void ask('key b', l, undefined, b1);
    for (let i = 0; i < 9; i++) {
      await tick();
      release(granted.at(-1)!);
    }
    await tick();
    // B gets every other slot (not one in four, as if each of A's requests were a client); A's turns go to its
    // oldest request: a1 ends after A's second turn, not its fourth (with a3.1 and a2.2 run before a1.2, all three of
    // A's requests ended together at the end).
    expect(granted).toEqual(['a1.1', 'b1', 'a1.2', 'b2', 'a2.1', 'b3', 'a2.2', 'a3.1', 'a3.2']);
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });

  it('keeps a client to its share even when alone: the other slots wait for another client, who gets one at once', async () => {
    const queue = new StatementQueue(4);
    const granted: string[] = [];
    const { ask } = track(queue, granted);
    for (let i = 1; i <= 6; i++) void ask('key a', `a${i}`);
    await tick();
    // Statements hold slots for seconds: a second client arriving must not wait for one of them to end.
    expect(granted).toEqual(['a1', 'a2']);
    void ask('key b', 'b1');
    await tick();
    expect(granted).toEqual(['a1', 'a2', 'b1']);
  });

  it('keeps a request its place when it asks for a statement after its earlier ones ended', async () => {
    const queue = new StatementQueue(1);
    const granted: string[] = [];
    const { ask, release } = track(queue, granted);
    const [r1, r2] = [{}, {}];
    void ask('key a', 'r1 page', undefined, r1);
    void ask('key a', 'r2 page', undefined, r2);
    await tick();
    release('r1 page'); // r1 has nothing queued or running now; r2's page takes the slot
    await tick();
    void ask('key a', 'r2 lookup', undefined, r2);
    void ask('key a', 'r1 lookup', undefined, r1); // r1's lookup, asked last, is still the older request's
    release('r2 page');
    await tick();
    release(granted.at(-1)!);
    await tick();
    expect(granted).toEqual(['r1 page', 'r2 page', 'r1 lookup', 'r2 lookup']);
  });
});
