import type { Command } from 'commander';

/** `flowql athena-ddl`: not built yet (see the open issues). */
export function registerAthenaDdlCommand(program: Command): void {
  program
    .command('athena-ddl')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql athena-ddl is not built yet');
    });
}
