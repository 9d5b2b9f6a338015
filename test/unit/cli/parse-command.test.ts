import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** Runs `flowql parse ...` as a real child process; never throws, returns stdout, stderr and the exit code. */
async function flowql(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node', ['bin/flowql.js', 'parse', ...args], { cwd: ROOT });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe.concurrent('flowql parse (child process)', () => {
  it('prints records as JSON lines with ISO times, rejects as file:line: reason, and exits 0', async () => {
    const { stdout, stderr, code } = await flowql('test/fixtures/broken/malformed-lines.log');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start_time: '2014-12-14T04:06:50Z',
      end_time: '2014-12-14T04:07:50Z',
      action: 'ACCEPT',
      log_status: 'OK',
    });
    const err = stderr.trim().split('\n');
    expect(err[0]).toBe('test/fixtures/broken/malformed-lines.log:3: expected 14 fields, found 13');
    expect(err[1]).toBe(
      "test/fixtures/broken/malformed-lines.log:5: srcport: expected an integer 0-65535, found 'abc'",
    );
    expect(err).toHaveLength(10);
    expect(err[9]).toBe('flowql parse: 4 records, 9 rejected lines from 1 file');
  });

  it('honours --limit across files', async () => {
    const { stdout, stderr, code } = await flowql(
      '--limit',
      '3',
      'test/fixtures/aws/nat-gateway.log',
      'test/fixtures/aws/default-format.log',
    );
    expect(code).toBe(0);
    expect(
      stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { srcaddr: string }).srcaddr),
    ).toEqual(['10.0.1.5', '10.0.0.220', '203.0.113.5']);
    expect(stderr).toBe('flowql parse: 3 records, 0 rejected lines from 2 files\n');
  });

  it('exits 1 naming a file that is not a flow log, after reading the others', async () => {
    const { stdout, stderr, code } = await flowql(
      'test/fixtures/broken/other.json',
      'test/fixtures/aws/traffic-path-v5.log',
    );
    expect(code).toBe(1);
    expect(stdout.trim().split('\n')).toHaveLength(2);
    expect(stderr.split('\n')[0]).toBe(
      'flowql parse: test/fixtures/broken/other.json: not a flow log: JSON with no messageType; expected a CloudWatch Logs payload (DATA_MESSAGE or CONTROL_MESSAGE with logEvents)',
    );
    expect(stderr.split('\n')[1]).toBe('flowql parse: 2 records, 0 rejected lines from 2 files; 1 not read');
  });

  it('describes itself in --help', async () => {
    const { stdout, code } = await flowql('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: flowql parse [options] <file...>');
    expect(stdout).toContain('--format <format>');
    expect(stdout).toContain('Exit code 0 when every file was read');
  });
});
