/**
 * The omnisync CLI. `npm run omnisync -- <command>` (or `npx omnisync <command>` once linked).
 *
 * Exit codes: 0 ok, 1 a command failed (e.g. a connection check), 2 invalid config or usage,
 * 3 `sync run`: the run failed (a run that finished with quarantined items exits 0), 4 `sync run`:
 * Temporal stayed out of reach for 10 minutes (the run goes on there). `prices approve|reject`:
 * 2 for a run that does not exist or holds nothing that waits for a decision.
 */
import { Command, Option } from 'commander';
import { loadCliConfig, cliLogger } from './context';
import { runDev } from './dev';
import { checkConnectors } from './commands/connectors-check';
import { runSync } from './commands/sync-run';
import { applySchedulesCommand } from './commands/schedules-apply';
import { listQuarantine } from './commands/quarantine-list';
import { runWorkerCommand } from './commands/worker';
import { runCodecServerCommand } from './commands/codec-server';
import { decideHeldPrices, listHeldPrices, PRICE_HISTORY_DEFAULT_LIMIT, showPriceHistory } from './commands/prices';

const program = new Command()
  .name('omnisync')
  .description('Integration hub for omnichannel retail on Temporal')
  .option('-c, --config <file>', 'config file', process.env.OMNISYNC_CONFIG ?? 'omnisync.yaml')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const configFile = () => program.opts<{ config: string }>().config;

program
  .command('dev')
  .description('run everything on this machine: Temporal dev server + UI, worker, sandbox systems with demo data')
  .action(() => runDev(configFile()));

program
  .command('worker')
  .description('run the omnisync worker against the configured Temporal server')
  .option('--workflow-bundle <file>', 'a prebuilt workflow bundle (npm run build:workflows); default: bundle at start')
  .option('--serve <list>', 'serve only these task queues: "hub" (workflows) and/or connector ids, comma-separated; default: all')
  .action((options: { workflowBundle?: string; serve?: string }) => runWorkerCommand(configFile(), options));

program
  .command('codec-server')
  .description('serve the remote codec endpoint of the Temporal Web UI for the encrypted payloads (temporal.encryption.codecServer)')
  .action(() => runCodecServerCommand(configFile()));

const config = program.command('config').description('configuration');
config
  .command('validate')
  .description('validate the config file and its mappings; one line per problem, exit code 2 when invalid')
  .action(() => {
    const loaded = loadCliConfig(configFile(), 'none');
    console.log(`${loaded.file}: ok (${loaded.connectors.size} connectors, ${loaded.syncs.size} syncs)`);
    for (const [id, connector] of loaded.connectors) {
      if (connector.unresolved === undefined) for (const note of connector.manifest.notes(connector.config)) console.log(`  ${id}: ${note}`);
    }
  });

program
  .command('connectors')
  .description('connectors')
  .command('check')
  .argument('[id]', 'connector id (default: all)')
  .description('test the connection of one or every connector')
  .action(async (id?: string) => {
    process.exitCode = await checkConnectors(loadCliConfig(configFile(), id === undefined ? 'all' : [id]), id);
  });

program
  .command('sync')
  .description('syncs')
  .command('run')
  .argument('<name>', 'sync name from config')
  .addOption(new Option('--mode <mode>', 'full or delta').choices(['full', 'delta']).default('full'))
  .option('--dry-run', 'print what would change and write nothing', false)
  .description('run a sync once now (through Temporal), or dry-run it locally')
  .action(async (name: string, options: { mode: 'full' | 'delta'; dryRun: boolean }) => {
    process.exitCode = await runSync(loadCliConfig(configFile()), name, options);
  });

program
  .command('schedules')
  .description('Temporal schedules')
  .command('apply')
  .description('create, update and delete the Temporal schedules so they match the config')
  .action(async () => {
    await applySchedulesCommand(loadCliConfig(configFile(), 'none'));
  });

program
  .command('quarantine')
  .description('records that could not be synced')
  .command('list')
  .option('--scope <sync>', 'only this sync')
  .option('--limit <n>', 'at most this many', '50')
  .option('--all', 'also records resolved since (by a clean sync or by hand)', false)
  .description('list open quarantined records with their reasons (newest first)')
  .action(async (options: { scope?: string; limit: string; all: boolean }) => {
    await listQuarantine(loadCliConfig(configFile(), 'none'), options);
  });

const prices = program.command('prices').description('prices: changes the guard holds for a decision, and price history');
prices
  .command('held')
  .description('list the price runs whose held changes wait for a decision, with what each holds and when it lapses')
  .action(async () => {
    process.exitCode = await listHeldPrices(loadCliConfig(configFile(), 'none'));
  });
prices
  .command('approve')
  .argument('<run>', 'workflow id of the run, as `prices held` prints it')
  .description("approve the run's held price changes (they are pushed); signed with your OS user name")
  .action(async (run: string) => {
    process.exitCode = await decideHeldPrices(loadCliConfig(configFile(), 'none'), run, true);
  });
prices
  .command('reject')
  .argument('<run>', 'workflow id of the run, as `prices held` prints it')
  .description("reject the run's held price changes (nothing of them is pushed); signed with your OS user name")
  .action(async (run: string) => {
    process.exitCode = await decideHeldPrices(loadCliConfig(configFile(), 'none'), run, false);
  });
prices
  .command('history')
  .argument('<sku>', 'the SKU')
  .option('--limit <n>', 'at most this many prices per channel', String(PRICE_HISTORY_DEFAULT_LIMIT))
  .description('the prices each channel showed for a SKU, newest first, and the EU Omnibus lowest price of the last 30 days')
  .action(async (sku: string, options: { limit: string }) => {
    process.exitCode = await showPriceHistory(loadCliConfig(configFile(), 'none'), sku, options);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  cliLogger().error({ err }, (err as Error).message);
  process.exit(1);
});
