/**
 * TLS on the SQL endpoint (`--pg-tls-cert`/`--pg-tls-key`): a client that requires TLS (psql `sslmode=require`,
 * node-postgres `ssl`) gets an encrypted session with the configured certificate; a client that asks for no TLS still
 * gets plain text. The certificate is a throwaway self-signed one made with openssl.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { KEY_A, serveTenantFixture } from '../helpers/tenant-fixture.ts';

function run(command: string, args: readonly string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((ok, fail) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

const certDir = await mkdtemp(join(tmpdir(), 'flowql-pg-tls-'));
afterAll(() => rm(certDir, { recursive: true, force: true }));

describe.skipIf(!existsSync('/usr/bin/openssl'))('TLS', () => {
  let server: RunningServer;
  serveTenantFixture(
    (f) => ({ server } = f),
    async () => {
      const made = await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem'),
      ]);
      if (made.code !== 0) throw new Error(made.stderr);
      return { pgPort: 0, pgTlsCert: join(certDir, 'cert.pem'), pgTlsKey: join(certDir, 'key.pem') };
    },
  );

  it('serves a client that requires TLS with the configured certificate, and a plain one without', async () => {
    const cert = await readFile(join(certDir, 'cert.pem'), 'utf8');
    const secure = new pg.Client({
      host: '127.0.0.1',
      port: server.pg!.port,
      user: 'bi',
      password: KEY_A,
      database: 'flowql',
      ssl: { ca: cert, servername: 'localhost' },
    });
    await secure.connect();
    const stream = (secure as unknown as { connection: { stream: unknown } }).connection.stream;
    expect(stream).toBeInstanceOf(TLSSocket);
    expect((stream as TLSSocket).encrypted).toBe(true);
    expect((await secure.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '4' }]);
    await secure.end();

    const plain = new pg.Client({
      host: '127.0.0.1',
      port: server.pg!.port,
      user: 'bi',
      password: KEY_A,
      database: 'flowql',
    });
    await plain.connect();
    expect((await plain.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '4' }]);
    await plain.end();
  });

  it.skipIf(!existsSync('/usr/bin/psql'))('psql with sslmode=require', async () => {
    const q = await run(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        `host=127.0.0.1 port=${server.pg!.port} dbname=flowql user=bi sslmode=require`,
        '-c',
        'SELECT sum(bytes) FROM flows',
      ],
      { PGPASSWORD: KEY_A },
    );
    expect(q.stderr).toBe('');
    expect(q.stdout.trim()).toBe('6500');
  });
});
