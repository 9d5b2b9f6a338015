/** docs/configuration.md documents exactly the settings of src/config.ts, with the flags `flowql serve` really has. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { expect, it } from 'vitest';
import { registerServeCommand } from '../../src/cli/serve-command.ts';
import { CONFIG_SOURCES, parseConfig } from '../../src/config.ts';

it('lists every setting with its variable, its real flag (or none) and its default', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
  const program = new Command();
  registerServeCommand(program);
  const flags = new Set(program.commands[0]!.options.map((o) => o.long));
  const rows = new Map(
    [...doc.matchAll(/^\| (\w+) \| `(FLOWQL_[A-Z0-9_]+)` \| (`--[a-z0-9-]+`|—) \| ([^|]+) \|/gm)].map((m) => [
      m[1]!,
      { env: m[2]!, flag: m[3]!, def: m[4]!.trim() },
    ]),
  );
  expect([...rows.keys()].sort()).toEqual(Object.keys(CONFIG_SOURCES).sort());
  const defaults = parseConfig({}) as Record<string, unknown>;
  for (const [key, source] of Object.entries(CONFIG_SOURCES)) {
    const row = rows.get(key)!;
    expect(row.env, key).toBe(source.env);
    const real = flags.has(source.flag)
      ? `\`${source.flag}\``
      : source.flag === '--graphiql' && flags.has('--no-graphiql')
        ? '`--no-graphiql`'
        : '—';
    expect(row.flag, key).toBe(real);
    if (defaults[key] !== undefined) expect(row.def.replaceAll('`', ''), key).toBe(String(defaults[key]));
  }
  const mentioned = new Set([...doc.matchAll(/\b(FLOWQL_[A-Z0-9_]+)\b/g)].map((m) => m[1]!));
  expect([...mentioned].sort()).toEqual(
    Object.values(CONFIG_SOURCES)
      .map((s) => s.env)
      .sort(),
  );
});
