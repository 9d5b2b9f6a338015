// Objects read by one statement (ingest-object.ts loadPreparedGroup, ingest-load-text.ts loadTextGroup): each object's
// rows keep its own source id and line numbers, a bad line is named in its own object, an object that breaks after its
// scan fails alone while the others load, and a numbering that does not add up sends every object down the one-object
// path instead of storing wrong lines.
import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { loadTextGroup } from '../../../src/ingest/ingest-load-text.ts';
import { loadPreparedGroup, prepareObject, type PreparedText } from '../../../src/ingest/ingest-object.ts';
import { listLocalObjects } from '../../../src/ingest/sources/local-source.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const rec = (eni: string, bytes: number | string) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;

let engine: IngestEngine;
let root: string;
let nextSource = 1;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-group-'));
  engine = await openIngestEngine(join(root, 'ledger.duckdb'), root, { threads: 1 });
});
afterAll(() => engine.close());

/** Writes gzip objects (name -> lines after the header) into a fresh folder and prepares them in name order. */
async function prepared(objects: Record<string, string[]>, header = true): Promise<PreparedText[]> {
  const dir = join(root, `set-${nextSource}`, DIR);
  await mkdir(dir, { recursive: true });
  for (const [name, lines] of Object.entries(objects)) {
    await writeFile(join(dir, name), gzipSync(`${header ? `${HEADER}\n` : ''}${lines.join('\n')}\n`));
  }
  const out: PreparedText[] = [];
  for await (const obj of listLocalObjects(dir)) {
    const p = await prepareObject(obj, nextSource++, root);
    expect(p.kind).toBe('text');
    out.push(p as PreparedText);
  }
  return out;
}

/** (interface, bytes, line) of every batch row of the given sources, by source then line. */
async function rows(sourceIds: readonly number[]): Promise<[number, string, number, number][]> {
  const out: [number, string, number, number][] = [];
  for (const t of await engine.batches.tables()) {
    const r = await engine.main.runAndReadAll(
      `SELECT source_id, interface_id, bytes, source_line FROM ${t.name} WHERE source_id IN (${sourceIds.join(', ')}) ORDER BY source_id, source_line`,
    );
    for (const row of r.getRows()) out.push([Number(row[0]), String(row[1]), Number(row[2]), Number(row[3])]);
  }
  return out;
}

describe('objects read by one statement', () => {
  it('a bad line in the middle object is named in that object, by its own line; every good line of all three loads', async () => {
    const group = await prepared({
      'a.log.gz': [rec('eni-a', 1), rec('eni-a', 2), rec('eni-a', 3)],
      'b.log.gz': [rec('eni-b', 1), rec('eni-b', 'x12'), rec('eni-b', 3)],
      // A trailing space: refused by the SQL check, kept by the line parser, at its own line.
      'c.log.gz': [rec('eni-c', 1), `${rec('eni-c', 2)} `, rec('eni-c', 3)],
    });
    expect(group.map((p) => p.groupKey)).toEqual(Array(3).fill(group[0]!.groupKey));
    expect(group[0]!.groupKey).not.toBeNull();
    const results = await loadPreparedGroup(engine.loaders[0]!, group, engine.batches);
    expect(
      results.map((r) => [r.outcome.uri.split('/').pop(), r.outcome.state, r.outcome.records, r.outcome.rejects]),
    ).toEqual([
      ['a.log.gz', 'loaded', 3, 0],
      ['b.log.gz', 'loaded', 2, 1],
      ['c.log.gz', 'loaded', 3, 0],
    ]);
    expect(results[1]!.rejects).toEqual([
      {
        line: 3,
        field: 'bytes',
        reason: "bytes: expected a non-negative integer, found 'x12'",
        text: rec('eni-b', 'x12'),
      },
    ]);
    const [a, b, c] = group.map((p) => p.ctx.sourceId);
    expect(await rows([a!, b!, c!])).toEqual([
      [a, 'eni-a', 1, 2],
      [a, 'eni-a', 2, 3],
      [a, 'eni-a', 3, 4],
      [b, 'eni-b', 1, 2],
      [b, 'eni-b', 3, 4],
      [c, 'eni-c', 1, 2],
      [c, 'eni-c', 2, 3],
      [c, 'eni-c', 3, 4],
    ]);
  });

  it('header-less objects (the default format) are numbered from line 1', async () => {
    const group = await prepared(
      { 'h1.log.gz': [rec('eni-h', 1), rec('eni-h', 2)], 'h2.log.gz': [rec('eni-i', 'bad'), rec('eni-i', 4)] },
      false,
    );
    expect(group.map((p) => [p.header, p.groupKey === group[0]!.groupKey])).toEqual([
      [false, true],
      [false, true],
    ]);
    const results = await loadPreparedGroup(engine.loaders[0]!, group, engine.batches);
    expect(results.map((r) => [r.outcome.records, r.rejects.map((x) => x.line)])).toEqual([
      [2, []],
      [1, [1]],
    ]);
    const [h1, h2] = group.map((p) => p.ctx.sourceId);
    expect(await rows([h1!, h2!])).toEqual([
      [h1, 'eni-h', 1, 1],
      [h1, 'eni-h', 2, 2],
      [h2, 'eni-i', 4, 2],
    ]);
  });

  it('an object that breaks between its scan and the statement (truncated gzip) fails alone; the others load', async () => {
    const many = (eni: string) => Array.from({ length: 300 }, (_, i) => rec(eni, i));
    const group = await prepared({ 'a.log.gz': many('eni-a'), 'b.log.gz': many('eni-b'), 'c.log.gz': many('eni-c') });
    // The statement reads the scans' decompressed copies: b's is gone (the statement fails, each object loads alone,
    // from its own file), and b's own file is cut short.
    await rm(group[1]!.decoded!);
    await truncate(group[1]!.local.path, 600);
    const results = await loadPreparedGroup(engine.loaders[0]!, group, engine.batches);
    expect(results.map((r) => [r.outcome.state, r.outcome.records])).toEqual([
      ['loaded', 300],
      ['failed', 0],
      ['loaded', 300],
    ]);
    expect(results[1]!.outcome.error).toMatch(/b\.log\.gz: .*(unexpected end of file|truncated|gzip)/i);
    const [a, b, c] = group.map((p) => p.ctx.sourceId);
    const loaded = await rows([a!, b!, c!]);
    expect(loaded.filter((r) => r[0] === b)).toEqual([]);
    expect(loaded.filter((r) => r[0] === a).map((r) => r[3])).toEqual(Array.from({ length: 300 }, (_, i) => i + 2));
    expect(loaded.filter((r) => r[0] === c).map((r) => [r[2], r[3]])).toEqual(
      Array.from({ length: 300 }, (_, i) => [i, i + 2]),
    );
  });

  it('rows that do not fit the line counts of the scans are not stored: every object goes to the one-object path', async () => {
    const group = await prepared({
      'a.log.gz': [rec('eni-a', 1), rec('eni-a', 2)],
      'b.log.gz': [rec('eni-b', 1), rec('eni-b', 2)],
    });
    // The layout prepareObject chose for the group (both objects have the same header).
    const { layout, header } = group[0]!;
    // One line too many claimed for the first object: the second object's rows land outside their range.
    const members = group.map((p, i) => ({ path: p.local.path, ctx: p.ctx, lines: p.lines! + (i === 0 ? 1 : 0) }));
    expect(await loadTextGroup(engine.loaders[0]!, members, true, layout, header, engine.batches)).toEqual([
      null,
      null,
    ]);
    const ids = group.map((p) => p.ctx.sourceId);
    expect(await rows(ids)).toEqual([]);
    // One line too few: the first object's last row lands in the second's range.
    const fewer = group.map((p, i) => ({ path: p.local.path, ctx: p.ctx, lines: p.lines! - (i === 0 ? 1 : 0) }));
    expect(await loadTextGroup(engine.loaders[0]!, fewer, true, layout, header, engine.batches)).toEqual([null, null]);
    expect(await rows(ids)).toEqual([]);
    // The caller then loads each alone, exactly.
    const results = await loadPreparedGroup(engine.loaders[0]!, group, engine.batches);
    expect(results.map((r) => r.outcome.records)).toEqual([2, 2]);
    expect((await rows(ids)).map((r) => [r[1], r[3]])).toEqual([
      ['eni-a', 2],
      ['eni-a', 3],
      ['eni-b', 2],
      ['eni-b', 3],
    ]);
  });

  it("the statement reads plain gzip objects from the scan's decompressed copies, removed once the objects are loaded", async () => {
    const group = await prepared({
      'a.log.gz': [rec('eni-a', 1), rec('eni-a', 2)],
      'b.log.gz': [rec('eni-b', 7)],
      'tab.log.gz': [rec('eni-t', 1).replace(' ', '\t')],
    });
    const [a, b, tab] = group;
    // The copies hold the objects' bytes as they are once inflated; the object that is not plain has none.
    for (const p of [a!, b!]) expect(await readFile(p.decoded!)).toEqual(gunzipSync(await readFile(p.local.path)));
    expect(tab!.decoded).toBeNull();
    expect(a!.groupKey).toBe(`text|${HEADER}`);
    const results = await loadPreparedGroup(engine.loaders[0]!, [a!, b!], engine.batches);
    expect(results.map((r) => [r.outcome.state, r.outcome.records, r.outcome.format])).toEqual([
      ['loaded', 2, 'gzip-text'],
      ['loaded', 1, 'gzip-text'],
    ]);
    expect(await rows([a!.ctx.sourceId, b!.ctx.sourceId])).toEqual([
      [a!.ctx.sourceId, 'eni-a', 1, 2],
      [a!.ctx.sourceId, 'eni-a', 2, 3],
      [b!.ctx.sourceId, 'eni-b', 7, 2],
    ]);
    await loadPreparedGroup(engine.loaders[0]!, [tab!], engine.batches);
    const ids = group.map((p) => p.ctx.sourceId);
    expect((await readdir(root)).filter((f) => ids.some((id) => f === `decoded-${id}.log`))).toEqual([]);
  });

  it('only plain objects get a group key: an empty line, a CR, a tab or a non-ASCII byte sends an object down the one-object path', async () => {
    const group = await prepared({
      'plain.log.gz': [rec('eni-p', 1)],
      'empty-line.log.gz': [rec('eni-e', 1), '', rec('eni-e', 2)],
      'crlf.log.gz': [`${rec('eni-r', 1)}\r`],
      'tab.log.gz': [rec('eni-t', 1).replace(' ', '\t')],
      'utf8.log.gz': [rec('eni-ü', 1)],
    });
    const byName = Object.fromEntries(group.map((p) => [p.obj.uri.split('/').pop(), p.groupKey !== null]));
    expect(byName).toEqual({
      'plain.log.gz': true,
      'empty-line.log.gz': false,
      'crlf.log.gz': false,
      'tab.log.gz': false,
      'utf8.log.gz': false,
    });
  });
});
