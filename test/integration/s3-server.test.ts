/** The s3rver test helper itself: it must never outlive the process that started it, nor leave its data behind. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startS3Server } from '../helpers/s3-server.ts';

function portOpen(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const sock = connect({ host: hostname, port: Number(port) });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('startS3Server', () => {
  it('stop() closes the port and deletes the data directory; a second stop() is harmless', async () => {
    const s3 = await startS3Server(['one', 'two']);
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect([await portOpen(s3.endpoint), existsSync(s3.dir)]).toEqual([true, true]);
    await s3.stop();
    await s3.stop();
    expect([await portOpen(s3.endpoint), existsSync(s3.dir)]).toEqual([false, false]);
  });

  it('shuts down and cleans up when the process that started it is killed', async () => {
    const script = `
      const { startS3Server } = await import(${JSON.stringify(new URL('../helpers/s3-server.ts', import.meta.url).href)});
      const s3 = await startS3Server(['bkt']);
      console.log(JSON.stringify({ endpoint: s3.endpoint, dir: s3.dir }));
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = await new Promise<{ endpoint: string; dir: string }>((resolve, reject) => {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    expect(await portOpen(info.endpoint)).toBe(true);
    parent.kill('SIGKILL');
    expect(await eventually(async () => !(await portOpen(info.endpoint)) && !existsSync(info.dir), 5_000)).toBe(true);
  });
});
