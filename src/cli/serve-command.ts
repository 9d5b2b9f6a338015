import type { Command } from 'commander';

/** `flowql serve`: not built yet (see the open issues). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql serve is not built yet');
    });
}
