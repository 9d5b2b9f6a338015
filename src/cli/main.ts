/**
 * The `flowql` command. Each subcommand lives in its own `*-command.ts` and loads its implementation lazily, so
 * `flowql --help` and `flowql parse` start without loading DuckDB or the GraphQL stack.
 */
import { Command } from 'commander';
import { registerParseCommand } from './parse-command.ts';
import { registerGenerateCommand } from './generate-command.ts';
import { registerIngestCommand } from './ingest-command.ts';
import { registerCompactCommand } from './compact-command.ts';
import { registerDeriveCommand } from './derive-command.ts';
import { registerAthenaDdlCommand } from './athena-ddl-command.ts';
import { registerCheckCommand } from './check-command.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerPrintSchemaCommand } from './print-schema-command.ts';
import { registerReferenceCommands } from './reference-command.ts';

const program = new Command('flowql')
  .description('AWS VPC Flow Logs -> Parquet partitions -> DuckDB -> GraphQL')
  .showHelpAfterError()
  .configureHelp({ sortSubcommands: false });

registerParseCommand(program);
registerGenerateCommand(program);
registerIngestCommand(program);
registerCompactCommand(program);
registerDeriveCommand(program);
registerAthenaDdlCommand(program);
registerCheckCommand(program);
registerReferenceCommands(program);
registerServeCommand(program);
registerPrintSchemaCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  console.error(`flowql: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = process.exitCode || 1;
}
