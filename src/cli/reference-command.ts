import type { Command } from 'commander';
import { warehouseOptions } from './warehouse-options.ts';

/**
 * `flowql ip-ranges import FILE`, `flowql networks import FILE`, `flowql inventory import FILE...` and `flowql inventory
 * fetch --region R`: the reference
 * tables that name public AWS addresses (AWS's ip-ranges.json), your own networks (a YAML/JSON file of CIDR -> name
 * and attributes) and EC2 instances, interfaces, subnets and VPCs (the AWS CLI's describe-instances /
 * describe-network-interfaces / describe-subnets / describe-vpcs).
 */
export function registerReferenceCommands(program: Command): void {
  const kinds = [
    {
      name: 'ip-ranges',
      kind: 'ip_ranges',
      description: 'AWS IP address ranges: names the AWS service and region of public addresses in every answer',
      file: "AWS's ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json)",
    },
    {
      name: 'networks',
      kind: 'networks',
      description: 'your own networks (on-premises, partner VPCs, office egress): CIDR -> name and attributes',
      file: 'a YAML or JSON file: networks: [{ cidr, name, attributes: { key: value } }]',
    },
  ] as const;
  for (const k of kinds) {
    const group = program.command(k.name).description(k.description);
    warehouseOptions(group.command('import').argument('<file>', k.file))
      .description(
        `Import ${k.name} as the warehouse's new snapshot (a re-import of the same version does nothing; the snapshot it replaces names nothing from then on)`,
      )
      .option('--json', 'print the summary as one JSON object')
      .action(async (file: string, opts) => {
        const { referenceImportCli } = await import('../ingest/reference-import-cli.ts');
        process.exitCode = await referenceImportCli(k.kind, [file], opts);
      });
  }
  const inventory = program
    .command('inventory')
    .description('EC2 inventory: names and tags of instances, interfaces, subnets and VPCs, by time');
  warehouseOptions(
    inventory
      .command('import')
      .argument(
        '<files...>',
        'outputs of `aws ec2 describe-instances`, `describe-network-interfaces`, `describe-subnets` and `describe-vpcs` (JSON), one snapshot',
      ),
  )
    .description(
      'Import an inventory snapshot valid from --as-of (snapshots accumulate: each names resources until the next; the same files at the same time again do nothing)',
    )
    .option('--as-of <time>', 'ISO-8601 time the snapshot was taken (default: now)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (files: string[], opts) => {
      const { referenceImportCli } = await import('../ingest/reference-import-cli.ts');
      process.exitCode = await referenceImportCli('inventory', files, opts);
    });
  warehouseOptions(inventory.command('fetch'))
    .description(
      "Ask the EC2 API of one region for the same four outputs (every page) and import them as one snapshot; credentials from the AWS SDK's default chain or --profile (needs ec2:Describe{Instances,NetworkInterfaces,Subnets,Vpcs}). Run it from cron, once per region",
    )
    .requiredOption('--region <region>', 'the AWS region to describe, e.g. us-east-1')
    .option('--profile <name>', 'a profile of the shared AWS config files')
    .option('--ec2-endpoint <url>', 'another EC2 endpoint (a VPC interface endpoint)')
    .option('--as-of <time>', 'ISO-8601 time the snapshot names resources from (default: now)')
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts) => {
      const { inventoryFetchCli } = await import('../ingest/reference-import-cli.ts');
      process.exitCode = await inventoryFetchCli(opts);
    });
}
