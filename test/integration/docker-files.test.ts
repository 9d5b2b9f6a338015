/**
 * There is no Docker engine on the build machine, so the deployment files are checked against the code instead:
 * every flowql command the compose file runs is a real subcommand with real options, every FLOWQL_* variable is a
 * setting of src/config.ts, and the Dockerfile copies paths that exist, runs as a non-root user and has a healthcheck
 * on /health. docker/README.md is held to the compose file: the services, ports, credentials, ingest interval and
 * sample it names are the ones compose.yaml has.
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
const composeText = readFileSync(join(repo, 'docker/compose.yaml'), 'utf8');
const compose = parse(composeText) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      command?: string | string[];
      entrypoint?: string[];
      environment?: Record<string, string>;
      ports?: string[];
      volumes?: string[];
      profiles?: string[];
      healthcheck?: { disable?: boolean };
    }
  >;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(repo, 'docker/Dockerfile'), 'utf8');
const readme = readFileSync(join(repo, 'docker/README.md'), 'utf8');

const program = new Command('flowql');
for (const register of [
  registerParseCommand,
  registerGenerateCommand,
  registerIngestCommand,
  registerCompactCommand,
  registerAthenaDdlCommand,
  registerServeCommand,
  registerPrintSchemaCommand,
])
  register(program);

/** Variables read by the AWS SDK's default credential/region chain (the S3 client), not by flowql's config. */
const AWS_SDK_VARIABLES = new Set([
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_PROFILE',
]);
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
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'ingest',
      'minio',
      'minio-setup',
      'sample-generate',
      'sample-upload',
    ]);
    expect(flowqlServices.map(([name]) => name).sort()).toEqual(['api', 'ingest', 'sample-generate']);
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
        for (const token of args.filter((a) => a.startsWith('-')))
          expect(flags.has(token), `${name}: flowql ${args[0]} has no option ${token}`).toBe(true);
        seen.push(`${name}: ${args[0]}`);
      }
    }
    expect(seen.sort()).toEqual(['api: serve', 'ingest: ingest', 'sample-generate: generate']);
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
    for (const [, v] of dockerfile.matchAll(/\b(FLOWQL_[A-Z_]+)=/g))
      expect(settings.has(v!), `Dockerfile: ${v}`).toBe(true);
  });
});

describe('docker/compose.yaml sample data', () => {
  it('is started only on demand, generates into a volume the image lets `node` write, and uploads what it generated into the ingested bucket', () => {
    const generate = compose.services['sample-generate']!;
    const upload = compose.services['sample-upload']!;
    expect(generate.profiles).toEqual(['sample']);
    expect(upload.profiles).toEqual(['sample']);
    const args = generate.command as string[];
    const out = args[args.indexOf('--out') + 1]!;
    // A named volume mounted on a folder of the image starts with that folder's owner: it must exist, owned by node.
    expect(generate.volumes).toContain(`sample:${out}`);
    expect(compose.volumes).toHaveProperty('sample');
    const mkdir = /^RUN mkdir -p (.+?) && chown node:node (.+)$/m.exec(dockerfile);
    expect(mkdir?.[1]!.split(' ')).toContain(out);
    expect(mkdir?.[2]!.split(' ')).toContain(out);
    expect(upload.volumes).toContain(`sample:${out}:ro`);
    const script = (upload.command as string[]).join(' ');
    expect(script).toContain(`mc cp --recursive ${out}/AWSLogs/ local/flowlogs/AWSLogs/`);
    expect(compose.services.ingest!.command).toContain('s3://flowlogs/');
  });

  it('runs no image healthcheck (it asks the API on /health) in flowql containers that serve nothing', () => {
    for (const [name, service] of flowqlServices) {
      const serves = invocations(service).some((a) => a[0] === 'serve');
      if (!serves) expect(service.healthcheck?.disable, `${name} would be reported unhealthy forever`).toBe(true);
    }
  });
});

describe('docker/README.md', () => {
  const hostPorts = new Set(
    Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]!)),
  );

  it('names only services of compose.yaml in its docker compose commands', () => {
    const commands = [
      ...readme.matchAll(/docker compose -f docker\/compose\.yaml ([a-z]+)((?: -[-a-z]+)*)(?: ([a-z][a-z-]*))?/g),
    ];
    expect(commands.length).toBeGreaterThan(6);
    const named = commands.filter((m) => ['run', 'restart', 'logs'].includes(m[1]!)).map((m) => m[3]);
    expect(new Set(named)).toEqual(new Set(['sample-generate', 'sample-upload', 'ingest']));
    for (const service of named) expect(Object.keys(compose.services), `README: ${service}`).toContain(service);
    // The service table lists every service.
    const tableNames = [...readme.matchAll(/^\| `([a-z-]+)`(?:, `([a-z-]+)`)? \|/gm)].flatMap((m) =>
      [m[1], m[2]].filter(Boolean),
    );
    expect(tableNames.sort()).toEqual(Object.keys(compose.services).sort());
  });

  it('names only ports that compose.yaml publishes', () => {
    const ports = [...readme.matchAll(/localhost:(\d+)/g)].map((m) => m[1]!);
    expect(new Set(ports)).toEqual(new Set(['9000', '9001', '4000']));
    for (const port of ports) expect(hostPorts.has(port), `README: localhost:${port}`).toBe(true);
    expect(compose.services.minio!.ports).toEqual(['9000:9000', '9001:9001']);
    expect(compose.services.api!.ports).toEqual(['4000:4000']);
  });

  it("gives MinIO's credentials and every service that repeats them", () => {
    const { MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password } = compose.services.minio!.environment!;
    expect(readme).toContain(`User \`${user}\`, password \`${password}\``);
    expect(readme).toContain(`mc alias set flowql http://localhost:9000 ${user} ${password}`);
    const repeating = Object.entries(compose.services)
      .filter(([name, s]) => name !== 'minio' && JSON.stringify(s).includes(password!))
      .map(([name]) => name);
    const listed = /change it in every service that names it: ([^.]+)\./.exec(readme.replace(/\s+/g, ' '))?.[1] ?? '';
    expect([...listed.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]).sort()).toEqual(['minio', ...repeating].sort());
  });

  it('states the ingest interval and the sample that compose.yaml really uses', () => {
    const interval = /"\$\{INGEST_INTERVAL:-(\d+)\}"/.exec(composeText)?.[1];
    expect(interval).toBe('300');
    expect(readme).toContain(`every \`INGEST_INTERVAL\` seconds (${interval} by default)`);
    expect(readme).toContain(`${interval} s (5 minutes) unless you set it`);
    const args = compose.services['sample-generate']!.command as string[];
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    expect([arg('--records'), arg('--days'), arg('--start')]).toEqual(['100000', '1', '2024-09-05']);
    expect(readme).toContain('100,000 records of one day, 2024-09-05');
  });
});

describe('docker/Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => ({ from: m[1]!, name: m[2]! }));

  it('runs the current Node LTS (24), pinned by major and Debian release, in every stage', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(stages.length);
    expect(stages).toEqual([
      { from: 'node:24-bookworm-slim', name: 'deps' },
      { from: 'deps', name: 'build' },
      { from: 'node:24-bookworm-slim', name: 'runtime' },
    ]);
  });

  it('builds the CLI bundle in its own stage and copies it, with its sources, from there', () => {
    // The deps stage has no bin/ or src/: the project's prepare script would fail there, esbuild's script runs alone.
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --ignore-scripts .*&& npm rebuild esbuild /m);
    expect(dockerfile).toMatch(/^RUN node bin\/build-cli-bundle\.js$/m);
    const fromBuild = [...dockerfile.matchAll(/^COPY --from=build \S+ \/app\/(\S+) \.\/(\S+)$/gm)].map((m) => m[1]);
    expect(fromBuild).toEqual(['bin', 'src', 'dist']);
  });

  it('is multi-stage, runs as a non-root user, checks /health and copies paths that exist', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/flowql\.js"\]$/m);
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/),
    );
    expect(copied.length).toBeGreaterThan(4);
    for (const path of copied) expect(existsSync(join(repo, path)), `COPY ${path}`).toBe(true);
  });
});
