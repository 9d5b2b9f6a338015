import type { Command } from 'commander';

/** `flowql ingest`: not built yet (see the open issues). */
export function registerIngestCommand(program: Command): void {
  program
    .command('ingest')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql ingest is not built yet');
    });
}
