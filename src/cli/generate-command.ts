import type { Command } from 'commander';

/** `flowql generate`: not built yet (see the open issues). */
export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql generate is not built yet');
    });
}
