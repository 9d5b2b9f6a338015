import type { Command } from 'commander';

/** `flowql compact`: not built yet (see the open issues). */
export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description('(not built yet)')
    .action(() => {
      throw new Error('flowql compact is not built yet');
    });
}
