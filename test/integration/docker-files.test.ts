/**
 * There is no Docker engine on the build machine, so the deployment files are checked against the code instead:
 * every flowql command the compose file runs is a real subcommand with real options, every FLOWQL_* variable is a
 * setting of src/config.ts, and the Dockerfile copies paths that exist, runs as a non-root user and has a healthcheck
 * on /health.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerAthenaDdlCommand } from '../../src/cli/athena-ddl-command.ts';
import { registerCompactCommand } from '../../src/cli/compact-command.ts';
import { registerGenerateCommand } from '../../src/cli/generate-command.ts';
import { registerIngestCommand } from '../../src/cli/ingest-command.ts';
import { registerParseCommand } from '../../src/cli/parse-command.ts';
import { registerPrintSchemaCommand } from '../../src/cli/print-schema-command.ts';
import { registerServeCommand } from '../../src/cli/serve-command.ts';
import { CONFIG_SOURCES } from '../../src/config.ts';

const repo = join(import.meta.dirname, '../..');
const compose = parse(readFileSync(join(repo, 'docker/compose.yaml'), 'utf8')) as {
  services: Record<string, { image?: string; build?: unknown; command?: string | string[]; entrypoint?: string[]; environment?: Record<string, string> }>;
};
const dockerfile = readFileSync(join(repo, 'docker/Dockerfile'), 'utf8');

const program = new Command('flowql');
for (const register of [
  registerParseCommand, registerGenerateCommand, registerIngestCommand, registerCompactCommand, registerAthenaDdlCommand,
  registerServeCommand, registerPrintSchemaCommand,
]) register(program);

/** Variables read by the AWS SDK's default credential/region chain (the S3 client), not by flowql's config. */
const AWS_SDK_VARIABLES = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_PROFILE']);
const flowqlServices = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('flowql') || s.build);

/** The flowql invocations of a service: its command array (the image's entrypoint is flowql), or `flowql ...` lines of a shell script. */
function invocations(service: (typeof compose.services)[string]): string[][] {
  const command = service.command ?? [];
  if (service.entrypoint?.[0] === '/bin/sh') {
    const script = Array.isArray(command) ? command.join('\n') : command;
    return [...script.matchAll(/(?:node bin\/flowql\.js|flowql)\s+([^;&|\n]+)/g)].map((m) => m[1]!.trim().split(/\s+/));
  }
  return [Array.isArray(command) ? command : command.split(/\s+/)];
}

describe('docker/compose.yaml', () => {
  it('has MinIO, an ingest job on a schedule and the API', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'ingest', 'minio', 'minio-setup']);
    expect(flowqlServices.map(([name]) => name).sort()).toEqual(['api', 'ingest']);
    expect(compose.services.ingest!.command).toEqual(expect.arrayContaining(['ingest', '--watch', '--interval']));
    expect(compose.services.api!.command).toContain('serve');
  });

  it('runs only real flowql subcommands with real options', () => {
    const seen: string[] = [];
    for (const [name, service] of flowqlServices) {
      for (const args of invocations(service)) {
        const sub = program.commands.find((c) => c.name() === args[0]);
        expect(sub, `${name}: flowql ${args[0]} is not a subcommand`).toBeDefined();
        const flags = new Set(sub!.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)));
        for (const token of args.filter((a) => a.startsWith('-'))) expect(flags.has(token), `${name}: flowql ${args[0]} has no option ${token}`).toBe(true);
        seen.push(`${name}: ${args[0]}`);
      }
    }
    expect(seen.sort()).toEqual(['api: serve', 'ingest: ingest']);
  });

  it('sets only environment variables that flowql (or the AWS SDK) reads', () => {
    const settings = new Set(Object.values(CONFIG_SOURCES).map((s) => s.env));
    const raw = readFileSync(join(repo, 'docker/compose.yaml'), 'utf8');
    // Commented-out settings are documentation: they must be real too.
    const mentioned = new Set([...raw.matchAll(/\b(FLOWQL_[A-Z_]+)\b/g)].map((m) => m[1]!));
    for (const v of mentioned) expect(settings.has(v), `${v} is not a setting of src/config.ts`).toBe(true);
    for (const [name, service] of flowqlServices) {
      for (const key of Object.keys(service.environment ?? {})) {
        const known = settings.has(key) || AWS_SDK_VARIABLES.has(key) || key === 'INGEST_INTERVAL';
        expect(known, `${name}: ${key} is read by nothing`).toBe(true);
      }
    }
    for (const [, v] of dockerfile.matchAll(/\b(FLOWQL_[A-Z_]+)=/g)) expect(settings.has(v!), `Dockerfile: ${v}`).toBe(true);
  });
});

describe('docker/Dockerfile', () => {
  it('is multi-stage, runs as a non-root user, checks /health and copies paths that exist', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/flowql\.js"\]$/m);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
    expect(copied.length).toBeGreaterThan(4);
    for (const path of copied) expect(existsSync(join(repo, path)), `COPY ${path}`).toBe(true);
  });
});
