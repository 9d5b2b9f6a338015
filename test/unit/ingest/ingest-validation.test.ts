// One validation for both ingest paths: a corpus of bad and borderline values (every bad-number spelling DuckDB's
// own casts accept, signs, empties, leading zeros, the bounds of every integer field type, huge values, whitespace
// variants) is loaded through the DuckDB fast path and through the line parser path (loadTextObject's `via`); both
// must keep the same lines with the same stored values and reject the same lines with the same reasons, and the
// parser's own verdict on each line (parseLine) decides which lines those are; so must objects read by one statement
// (loadTextGroup), each by its own line numbers. Also: a 400 KB line of 200,000 tokens
// is rejected (it took 311 s and 5.3 GB in DuckDB's reject store).
import { writeFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldByName, integerMax } from '../../../src/domain/fields.ts';
import { openIngestEngine, type IngestEngine } from '../../../src/ingest/ingest-engine.ts';
import { textLayoutVerdict } from '../../../src/ingest/format-sniff.ts';
import { loadTextGroup, loadTextObject, type TextLoadPath } from '../../../src/ingest/ingest-load-text.ts';
import type { LoadResult } from '../../../src/ingest/text-load-result.ts';
import { scanTextObject } from '../../../src/ingest/text-object-scan.ts';
import { loadParquetObject } from '../../../src/ingest/ingest-load-parquet.ts';
import { readParquetBatches } from '../../../src/ingest/parquet-input.ts';
import {
  compileLayout,
  isSpace,
  parseLine,
  TOKEN_SEPARATORS,
  type FlowRecord,
} from '../../../src/ingest/line-parser.ts';
import { layoutOfObject } from '../../helpers/text-layout.ts';

// Every integer field type: version/protocol/tcp-flags/traffic-path/encryption-status (0-255), ports (0-65535),
// int64 counters (packets, bytes, a transit gateway loss counter: 0-2^53-1), epochs (start, end); plus an unknown
// field (kept in `extra`).
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
  'tcp-flags traffic-path encryption-status packets-lost-no-route future-field';
const NAMES = HEADER.split(' ');
const BASE =
  '2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 443 50000 6 10 840 1700000000 1700000060 ACCEPT OK 19 1 0 0 fx'.split(' ');
const CTX = { keyAccountId: '111122223333', keyRegion: 'eu-west-1', keyDate: '2023-11-14' };

/** Bad or borderline spellings of an integer, for every integer field (max and max + 1 come from the field table). */
const NUMBER_VARIANTS = [
  '1.5',
  '2.0',
  '+5',
  '1e3',
  '1E3',
  '1_000',
  '1,000',
  '0x1f',
  '0b1',
  '-5',
  '-0',
  '-',
  '007',
  '0',
  '00',
  '9223372036854775807',
  '9223372036854775808',
  '18446744073709551615',
  '18446744073709551616',
  '1' + '0'.repeat(30),
  '9007199254740991',
  '9007199254740992',
  '2147483647',
  '2147483648',
  '253402300799000',
  '253402300800000',
  '000000000000000000000255',
  '0000000000000000000000255',
  '٣',
  '５',
  'NaN',
  'Infinity',
  'x1',
  '1x',
  '--',
  '- ',
];

const line = (values: readonly string[]) => values.join(' ');
const withValue = (i: number, v: string) => line(BASE.map((b, k) => (k === i ? v : b)));

function corpus(): string[] {
  const lines: string[] = [line(BASE)];
  NAMES.forEach((name, i) => {
    const spec = fieldByName(name);
    const max = spec && integerMax(spec);
    if (max === undefined) return;
    for (const v of [...NUMBER_VARIANTS, String(max), String(max + 1), `0${max}`]) lines.push(withValue(i, v));
    lines.push(withValue(i, '')); // an empty token: a double space
  });
  const base = line(BASE);
  lines.push(
    base.replace(' ', '\t'), // a tab between two fields
    base.replace(' eni-0a1 ', '\u00a0eni-0a1\u00a0'), // NBSP separators
    base.replace(' eni-0a1 ', ' eni-0a1\u00a0x '), // NBSP inside a token: one token more for the parser
    base.replace(' eni-0a1 ', ' eni\u0085x '), // NEL inside a token
    base.replace(' eni-0a1 ', ' eni\u000bx '), // VT inside a token
    base.replace(' eni-0a1 ', ' eni\u000cx '), // FF inside a token
    base.replace(' eni-0a1 ', ' eni\u3000x '), // ideographic space inside a token
    base.replace(' eni-0a1 ', ' eni\ufeffx '), // BOM inside a token
    base.replace(' ACCEPT ', '\u2028ACCEPT\u2003'), // Unicode line/em space separators
    base.replace(' ACCEPT ', ' ACC\u200bEPT '), // a zero-width space is not a separator: kept in the value
    base.replace(' ACCEPT ', ' ACCÉPT '), // non-ASCII text is a value
    `${base} `, // trailing space
    `${base}\t`, // trailing tab
    `${base}  `, // two trailing spaces
    ` ${base}`, // leading space
    `\t${base}`, // leading tab
    base.replace(' 443 ', '  443 '), // double space inside
    base.replace(' 443 ', ' 443 extra '), // one token too many
    base.replace(' 443 ', ' '), // one token too few
    `${base} more  tokens`, // more tokens after a double space
    base.replace(' 111122223333 ', ' TransitGatewayAttachment '), // a transit gateway row in a VPC file
    base.replace(' 111122223333 ', ' TransitGatewayX '), // the parser refuses any second token starting so
    HEADER, // a repeated header: skipped by both
    '', // an empty line: skipped by both
    '   ', // spaces only: skipped by both
    '\u00a0\t', // separators only: skipped by both
    NAMES.map(() => '-').join(' '), // every field null
    `2018-09-22T20:28:14.000Z ${base}`, // a CloudWatch export line with its ISO prefix
    'garbage',
    base.replace(' 10.0.0.1 ', " 10.0.0.'1 "), // a quote is a value
    base.replace(' 10.0.0.1 ', ' "10.0.0.1" '), // quotes are values too
    base.replace(' 10.0.0.1 ', ' - '), // a null string field
    base.replace(' fx', ' -'), // a null unknown field: no `extra`
  );
  return lines;
}

let engine: IngestEngine;
let dir: string;
let nextSource = 100;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-validation-'));
  engine = await openIngestEngine(join(dir, 'ledger.duckdb'), dir, { threads: 1 });
});
afterAll(() => engine.close());

async function load(text: string, via: TextLoadPath, gzip = false): Promise<{ sourceId: number; result: LoadResult }> {
  const sourceId = nextSource++;
  const path = join(dir, `object-${sourceId}.log${gzip ? '.gz' : ''}`);
  await writeFile(path, gzip ? gzipSync(text) : text);
  const { layout, header } = await layoutOfObject(path, gzip);
  const result = await loadTextObject(
    engine.loaders[0]!,
    path,
    gzip,
    layout,
    header,
    { ...CTX, sourceId },
    engine.batches,
    via,
  );
  return { sourceId, result };
}

/** Every stored column of a source's rows as text, by line (the batch tables hold only filled columns). */
async function storedRows(sourceId: number): Promise<Map<number, Record<string, unknown>>> {
  const rows = new Map<number, Record<string, unknown>>();
  for (const t of await engine.batches.tables()) {
    const r = await engine.main.runAndReadAll(
      `SELECT * EXCLUDE (source_id) FROM ${t.name} WHERE source_id = ${sourceId} ORDER BY source_line`,
    );
    for (const row of r.getRowObjectsJson()) rows.set(Number(row.source_line), row as Record<string, unknown>);
  }
  return rows;
}

/** The line parser's verdict on each data line of an object (blank lines and repeated headers: none). */
function parserVerdicts(text: string): Map<number, { ok: true; record: FlowRecord } | { ok: false; reason: string }> {
  const layout = compileLayout(HEADER);
  const out = new Map<number, { ok: true; record: FlowRecord } | { ok: false; reason: string }>();
  text.split('\n').forEach((l, i) => {
    if (
      i === 0 ||
      l
        .replace(/\r$/, '')
        .split('')
        .every((ch) => isSpace(ch.charCodeAt(0))) ||
      l === HEADER
    )
      return;
    const r = parseLine(layout, l.replace(/\r$/, ''));
    out.set(i + 1, r.ok ? { ok: true, record: r.record } : { ok: false, reason: r.reason });
  });
  return out;
}

describe('one validation for both ingest paths', () => {
  const lines = corpus();
  const text = `${HEADER}\n${lines.join('\n')}\n`;

  it('the DuckDB fast path and the line parser path keep and reject the same lines with the same values', async () => {
    const fast = await load(text, 'duckdb');
    const slow = await load(text, 'lines');
    expect([fast.result.byLines, slow.result.byLines]).toEqual([undefined, true]); // the reader took the object
    const fastRows = await storedRows(fast.sourceId);
    const slowRows = await storedRows(slow.sourceId);
    const verdicts = parserVerdicts(text);
    const accepted = [...verdicts].filter(([, v]) => v.ok).map(([l]) => l);
    const rejected = [...verdicts].filter(([, v]) => !v.ok).map(([l, v]) => [l, (v as { reason: string }).reason]);

    // The parser is the judge: exactly its lines are kept, exactly its reasons given, by both paths.
    expect([...fastRows.keys()]).toEqual(accepted);
    expect([...slowRows.keys()]).toEqual(accepted);
    expect(fast.result.rejects.map((r) => [r.line, r.reason])).toEqual(rejected);
    expect(slow.result.rejects.map((r) => [r.line, r.reason])).toEqual(rejected);
    expect([fast.result.records, slow.result.records]).toEqual([accepted.length, accepted.length]);
    for (const l of accepted) expect({ line: l, ...fastRows.get(l) }).toEqual({ line: l, ...slowRows.get(l) });

    // Values someone could get wrong: each accepted integer is the parser's number, never DuckDB's reading of it.
    const intColumns = NAMES.map((n) => fieldByName(n)).filter(
      (s) => s && integerMax(s) !== undefined && s.kind !== 'epoch',
    );
    for (const l of accepted) {
      const rec = (verdicts.get(l) as { record: FlowRecord }).record;
      const row = fastRows.get(l)!;
      for (const spec of intColumns) {
        const want = rec[spec!.column];
        expect([l, spec!.column, row[spec!.column] === null ? null : String(row[spec!.column])]).toEqual([
          l,
          spec!.column,
          want === null || want === undefined ? null : String(want),
        ]);
      }
    }
    // A few verdicts spelled out (line numbers: the header is line 1, the base line 2).
    const reasonOf = (v: string, field: string) => {
      const at = lines.indexOf(withValue(NAMES.indexOf(field), v)) + 2;
      return (
        fast.result.rejects.find((r) => r.line === at)?.reason ??
        `kept as ${String(fastRows.get(at)?.[fieldByName(field)!.column])}`
      );
    };
    expect(reasonOf('9223372036854775807', 'bytes')).toBe(
      "bytes: '9223372036854775807' is out of range (max 9007199254740991)",
    );
    expect(reasonOf('9007199254740991', 'bytes')).toBe('kept as 9007199254740991');
    expect(reasonOf('1.5', 'packets')).toBe("packets: expected a non-negative integer, found '1.5'");
    expect(reasonOf('+5', 'srcport')).toBe("srcport: expected an integer 0-65535, found '+5'");
    expect(reasonOf('1e3', 'bytes')).toBe("bytes: expected a non-negative integer, found '1e3'");
    expect(reasonOf('1_000', 'dstport')).toBe("dstport: expected an integer 0-65535, found '1_000'");
    expect(reasonOf('0x1f', 'protocol')).toBe("protocol: expected an integer 0-255, found '0x1f'");
    expect(reasonOf('18446744073709551616', 'packets-lost-no-route')).toMatch(
      /^packets-lost-no-route: .* is out of range/,
    );
    expect(reasonOf('007', 'srcport')).toBe('kept as 7');
    expect(reasonOf('000000000000000000000255', 'version')).toBe('kept as 255');
    expect(reasonOf('0000000000000000000000255', 'version')).toMatch(/^version: expected an integer 0-255/);
    expect(reasonOf('65535', 'dstport')).toBe('kept as 65535');
    expect(reasonOf('65536', 'dstport')).toBe("dstport: expected an integer 0-65535, found '65536'");
    expect(reasonOf('-', 'bytes')).toBe('kept as null');
  });

  it('the gzip fast path agrees with the line parser path too, and so do CRLF line ends', async () => {
    const fast = await load(text, 'duckdb', true);
    const slow = await load(text, 'lines', true);
    expect([fast.result.byLines, slow.result.byLines]).toEqual([undefined, true]);
    expect(fast.result.rejects).toEqual(slow.result.rejects);
    const [fastRows, slowRows] = [await storedRows(fast.sourceId), await storedRows(slow.sourceId)];
    expect([...fastRows.keys()]).toEqual([...slowRows.keys()]);
    for (const [l, row] of fastRows) expect({ line: l, ...row }).toEqual({ line: l, ...slowRows.get(l) });
  });

  it('an object of printable ASCII only (checked without the separator test) agrees with the parser too', async () => {
    const ascii = `${HEADER}\n${lines.filter((l) => /^[\x20-\x7e]*$/.test(l)).join('\n')}\n`;
    expect(ascii.split('\n').length).toBeGreaterThan(400);
    const fast = await load(ascii, 'duckdb');
    expect(fast.result.byLines).toBe(undefined);
    const verdicts = parserVerdicts(ascii);
    const rows = await storedRows(fast.sourceId);
    expect([...rows.keys()]).toEqual([...verdicts].filter(([, v]) => v.ok).map(([l]) => l));
    expect(fast.result.rejects.map((r) => [r.line, r.reason])).toEqual(
      [...verdicts].filter(([, v]) => !v.ok).map(([l, v]) => [l, (v as { reason: string }).reason]),
    );
  });

  for (const gzip of [false, true]) {
    it(`plain objects read by one statement (grouped, ${gzip ? 'gzip' : 'plain'}) keep and reject the same lines with the same values as the line parser path, each by its own line`, async () => {
      // The printable-ASCII corpus without its empty line (a plain object has none), cut into 3 objects of one layout.
      const body = lines.filter((l) => /^[\x20-\x7e]*$/.test(l) && l !== '');
      const third = Math.ceil(body.length / 3);
      const texts = [0, 1, 2].map((k) => `${HEADER}\n${body.slice(k * third, (k + 1) * third).join('\n')}\n`);
      const members = [];
      const scans = [];
      for (const text of texts) {
        const sourceId = nextSource++;
        const path = join(dir, `group-${sourceId}.log${gzip ? '.gz' : ''}`);
        await writeFile(path, gzip ? gzipSync(text) : text);
        const scan = await scanTextObject(path, gzip);
        expect([scan.plain, scan.lines]).toEqual([true, text.split('\n').length - 1]);
        scans.push(scan);
        members.push({ path, ctx: { ...CTX, sourceId }, lines: scan.lines! });
      }
      // One layout for the group (ingest groups objects by it): the first object's, as prepareObject picks it.
      const { layout, header } = textLayoutVerdict(scans[0]!.head, scans[0]!.complete);
      const grouped = await loadTextGroup(engine.loaders[0]!, members, gzip, layout, header, engine.batches);
      expect(grouped.map((r) => r === null)).toEqual([false, false, false]); // the statement took every object
      for (const [k, text] of texts.entries()) {
        const slow = await load(text, 'lines', gzip);
        const verdicts = parserVerdicts(text);
        const accepted = [...verdicts].filter(([, v]) => v.ok).map(([l]) => l);
        const rows = await storedRows(members[k]!.ctx.sourceId);
        const slowRows = await storedRows(slow.sourceId);
        expect(accepted.length).toBeGreaterThan(20);
        expect([...rows.keys()]).toEqual(accepted);
        expect(grouped[k]!.records).toBe(accepted.length);
        expect(grouped[k]!.rejects.map((r) => [r.line, r.reason])).toEqual(
          [...verdicts].filter(([, v]) => !v.ok).map(([l, v]) => [l, (v as { reason: string }).reason]),
        );
        expect(grouped[k]!.rejects).toEqual(slow.result.rejects);
        for (const [l, row] of rows) expect({ line: l, ...row }).toEqual({ line: l, ...slowRows.get(l) });
      }
    });
  }

  it('CRLF line ends: the fast path agrees with the line parser path', async () => {
    const crlf = text.replaceAll('\n', '\r\n');
    const fast = await load(crlf, 'duckdb');
    const slow = await load(crlf, 'lines');
    expect(fast.result.byLines).toBe(undefined);
    expect(fast.result.rejects.length).toBeGreaterThan(100);
    expect(fast.result.rejects).toEqual(slow.result.rejects);
    const [fastRows, slowRows] = [await storedRows(fast.sourceId), await storedRows(slow.sourceId)];
    expect([...fastRows.keys()]).toEqual([...slowRows.keys()]);
    for (const [l, row] of fastRows) expect({ line: l, ...row }).toEqual({ line: l, ...slowRows.get(l) });
  });

  it('numbers rows after empty lines, refused lines and invalid UTF-8 by their own line', async () => {
    const body = [
      HEADER, // 1
      line(BASE), // 2
      '', // 3
      withValue(9, '1.5'), // 4: refused by the check, rejected by the parser
      withValue(9, '12'), // 5
      '', // 6
      withValue(3, '10.0.0.\u00ff').replace('\u00ff', '\ufffd'), // 7: (placeholder, replaced by bytes below)
      withValue(5, '007'), // 8: refused by the check, kept by the parser
      '', // 9
      withValue(9, '13'), // 10
    ].join('\n');
    // Line 7 gets an invalid UTF-8 byte, which DuckDB's reader itself rejects.
    const bytes = Buffer.from(body, 'utf8');
    const at = bytes.indexOf(Buffer.from('\ufffd', 'utf8'));
    const raw = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 3)]);
    const results = [];
    for (const via of ['duckdb', 'lines'] as const) {
      const sourceId = nextSource++;
      const path = join(dir, `numbered-${sourceId}.log`);
      await writeFile(path, raw);
      const { layout, header } = await layoutOfObject(path, false);
      const result = await loadTextObject(
        engine.loaders[0]!,
        path,
        false,
        layout,
        header,
        { ...CTX, sourceId },
        engine.batches,
        via,
      );
      expect(result.byLines).toBe(via === 'lines' ? true : undefined);
      const rows = await storedRows(sourceId);
      results.push({
        rejects: result.rejects.map((r) => [r.line, r.field]),
        rows: [...rows].map(([l, r]) => [l, r.bytes, r.srcport, r.srcaddr]),
      });
    }
    expect(results[0]).toEqual({
      rejects: [[4, 'bytes']],
      rows: [
        [2, '840', 443, '10.0.0.1'],
        [5, '12', 443, '10.0.0.1'],
        [7, '840', 443, '10.0.0.\ufffd'],
        [8, '840', 7, '10.0.0.1'],
        [10, '13', 443, '10.0.0.1'],
      ],
    });
    expect(results[1]).toEqual(results[0]);
  });

  it('rejects a 400 KB line of 200,000 tokens among good lines, keeping the good ones', async () => {
    const good = (bytes: number) =>
      `2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;
    const wide = Array.from({ length: 200_000 }, (_v, i) => (i % 2 ? 'x' : '7')).join(' ');
    expect(wide.length).toBe(399_999);
    const header =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    const text = [header, good(100), wide, good(300)].join('\n') + '\n';
    for (const via of ['duckdb', 'lines'] as const) {
      const sourceId = nextSource++;
      const path = join(dir, `wide-${sourceId}.log.gz`);
      await writeFile(path, gzipSync(text));
      const { layout, header: hdr } = await layoutOfObject(path, true);
      expect(compileLayout(header).names).toEqual(layout.names);
      const result = await loadTextObject(
        engine.loaders[0]!,
        path,
        true,
        layout,
        hdr,
        { ...CTX, sourceId },
        engine.batches,
        via,
      );
      expect(result.byLines).toBe(via === 'lines' ? true : undefined);
      expect(result.records).toBe(2);
      expect(result.rejects.map((r) => [r.line, r.reason, r.text.length])).toEqual([
        [3, 'expected 14 fields, found 200000', 1000],
      ]);
      const rows = await storedRows(sourceId);
      expect([...rows].map(([l, r]) => [l, r.bytes])).toEqual([
        [2, '100'],
        [4, '300'],
      ]);
    }
  });

  it('a Parquet counter above 2^53-1 is a reject naming the field, as parse reads it (it would overflow the hourly sums); one at the bound kept', async () => {
    const sourceId = nextSource++;
    const path = join(dir, `big-${sourceId}.parquet`);
    await engine.main.run(
      `COPY (SELECT * FROM (VALUES (1, 9223372036854775807::UBIGINT, 3::UBIGINT), (2, 9007199254740991::UBIGINT, 4::UBIGINT),
                                   (3, 5::UBIGINT, 18446744073709551615::UBIGINT))
             t(version, bytes, packets)) TO '${path}' (FORMAT parquet)`,
    );
    const result = await loadParquetObject(engine.loaders[0]!, path, { ...CTX, sourceId }, engine.batches);
    const rows = await storedRows(sourceId);
    expect([...rows].map(([l, r]) => [l, r.bytes, r.packets])).toEqual([[2, '9007199254740991', '4']]);
    expect(result.rejects.map((r) => [r.line, r.field, r.reason])).toEqual([
      [1, 'bytes', "bytes: '9223372036854775807' is out of range (max 9007199254740991)"],
      [3, 'packets', "packets: '18446744073709551615' is out of range (max 9007199254740991)"],
    ]);
  });

  it('Parquet timestamps: floored to the second, 1970 to 2038 kept, others rejected, as parse reads them', async () => {
    const sourceId = nextSource++;
    const path = join(dir, `ts-${sourceId}.parquet`);
    await engine.main.run(
      `COPY (SELECT * FROM (VALUES
         (1, TIMESTAMP '2024-05-01 00:00:00.7', TIMESTAMP '2024-05-01 00:01:00'),
         (2, TIMESTAMP '1969-12-31 23:59:59', TIMESTAMP '2024-05-01 00:01:00'),
         (3, TIMESTAMP '2040-01-01 00:00:00', TIMESTAMP '2040-01-01 00:01:00')) t(version, start_time, end_time))
       TO '${path}' (FORMAT parquet)`,
    );
    const result = await loadParquetObject(engine.loaders[0]!, path, { ...CTX, sourceId }, engine.batches);
    const rows = await storedRows(sourceId);
    expect([...rows].map(([l, r]) => [l, r.start_time])).toEqual([[1, '2024-05-01 00:00:00']]);
    const parsed: { line: number; reason?: string }[] = [];
    for await (const batch of readParquetBatches(path, path))
      for (const item of batch)
        parsed.push(item.kind === 'reject' ? { line: item.line, reason: item.reason } : { line: item.line });
    expect(result.rejects.map((r) => ({ line: r.line, reason: r.reason }))).toEqual(parsed.filter((p) => p.reason));
    expect(parsed.map((p) => p.line)).toEqual([1, 2, 3]);
    expect(result.rejects.map((r) => r.line)).toEqual([2, 3]);
  });

  it('the SQL check splits on exactly the parser separators (TOKEN_SEPARATORS is isSpace)', () => {
    const listed = (c: number) => TOKEN_SEPARATORS.some(([a, b]) => c >= a && c <= b);
    const differ: number[] = [];
    for (let c = 0; c <= 0xffff; c++) if (listed(c) !== isSpace(c)) differ.push(c);
    expect(differ).toEqual([]);
  });
});
