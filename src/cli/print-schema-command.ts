import type { Command } from 'commander';

/** `flowql print-schema`: the GraphQL schema as sorted SDL on stdout (npm run schema:print writes schema/schema.graphql). */
export function registerPrintSchemaCommand(program: Command): void {
  program
    .command('print-schema')
    .description('print the GraphQL schema (sorted SDL) to stdout')
    .action(async () => {
      const { printSortedSchema } = await import('../graphql/schema.ts');
      process.stdout.write(printSortedSchema());
    });
}
