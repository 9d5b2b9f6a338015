import type { Command } from 'commander';

/** `flowql parse`: not built yet (see the open issues). */
export function registerParseCommand(program: Command): void {
  program
    .command('parse')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql parse is not built yet');
    });
}
