/**
 * Runs the Shopify simulator standalone: `tsx sandbox/shopify/main.ts [--port 8801] [--token T]
 * [--restore-rate 100] [--bucket-size N] [--product-count 1200] [--host 127.0.0.1] [--seed 1]
 * [--state-file shopify-state.json]`.
 * Each flag falls back to an environment variable (SHOPIFY_SIM_PORT, SHOPIFY_SIM_ACCESS_TOKEN,
 * SHOPIFY_SIM_RESTORE_RATE, SHOPIFY_SIM_BUCKET_SIZE, SHOPIFY_SIM_PRODUCT_COUNT, SHOPIFY_SIM_HOST,
 * SHOPIFY_SIM_SEED, SHOPIFY_SIM_STATE_FILE), then to the default. Without a state file the shop
 * lives in memory only; with one it survives a restart (Ctrl-C saves it).
 */
import { parseArgs } from 'node:util';
import { startShopifySimulator } from './server';

/** Port used when neither --port nor SHOPIFY_SIM_PORT is given. */
const DEFAULT_PORT = 8801;
/** Token used when none is configured: a sandbox on localhost, so a well-known value is fine. */
const DEFAULT_TOKEN = 'shpat_omnisync_sandbox';

function numberSetting(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a number, got ${JSON.stringify(raw)}`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'restore-rate': { type: 'string' },
      'bucket-size': { type: 'string' },
      'product-count': { type: 'string' },
      seed: { type: 'string' },
      'state-file': { type: 'string' },
    },
  });
  const env = process.env;
  const simulator = await startShopifySimulator({
    port: numberSetting('port', values.port ?? env['SHOPIFY_SIM_PORT']) ?? DEFAULT_PORT,
    host: values.host ?? env['SHOPIFY_SIM_HOST'] ?? '127.0.0.1',
    accessToken: values.token ?? env['SHOPIFY_SIM_ACCESS_TOKEN'] ?? DEFAULT_TOKEN,
    restoreRate: numberSetting('restore-rate', values['restore-rate'] ?? env['SHOPIFY_SIM_RESTORE_RATE']),
    bucketSize: numberSetting('bucket-size', values['bucket-size'] ?? env['SHOPIFY_SIM_BUCKET_SIZE']),
    productCount: numberSetting('product-count', values['product-count'] ?? env['SHOPIFY_SIM_PRODUCT_COUNT']),
    seed: numberSetting('seed', values.seed ?? env['SHOPIFY_SIM_SEED']),
    stateFile: values['state-file'] || env['SHOPIFY_SIM_STATE_FILE'] || undefined,
  });
  process.stdout.write(`shopify simulator listening on ${simulator.url} (POST /admin/api/{version}/graphql.json)\n`);
  const shutdown = (): void => {
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shopify simulator failed to stop cleanly: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`shopify simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
