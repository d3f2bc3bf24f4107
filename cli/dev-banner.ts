/**
 * The part of `omnisync dev`'s banner that says which settings are in use: the config file, the
 * log level and format after the environment's overrides, the state store, every sync with its
 * schedules, and the sandbox's size and pace. Secrets never: the state store's connection string
 * may hold a password, so only its driver and schema are shown.
 */
import type { LoadedConfig } from '../config/load';
import { defaultLogFormat } from '../observability/logger';
import { SYNC_MODES } from '../temporal/sync-starts';

/** Width of the banner's label column. */
const LABEL_WIDTH = 18;

const row = (label: string, value: string) => `  ${label.padEnd(LABEL_WIDTH)}${value}`;

export function settingsInUse(config: LoadedConfig, env: NodeJS.ProcessEnv = process.env, stdoutIsTty = process.stdout.isTTY === true): string[] {
  const level = env.LOG_LEVEL ?? config.logging.level;
  const store = config.stateStore;
  const lines = [
    row('config', `${config.file}  (log level ${level}${env.LOG_LEVEL === undefined ? '' : ' from LOG_LEVEL'}, ${defaultLogFormat(env, stdoutIsTty)} logs)`),
    row('state store', store.driver === 'sqlite' ? `SQLite ${store.file}` : `PostgreSQL${store.schema === undefined ? '' : `, schema ${store.schema}`}`),
  ];
  const syncs = [...config.syncs.values()];
  const nameWidth = Math.max(0, ...syncs.map((sync) => sync.name.length)) + 2;
  syncs.forEach((sync, index) => {
    const schedules = SYNC_MODES.flatMap((mode) => {
      const entry = sync.schedule[mode];
      return entry === undefined ? [] : [`${mode} "${entry.cron}"${entry.paused ? ' (paused)' : ''}`];
    });
    const what = `${sync.entity} ${sync.source} → ${sync.targets.join(', ')}, pages of ${sync.pageSize}; ${schedules.length > 0 ? schedules.join(', ') : 'no schedule (omnisync sync run)'}`;
    lines.push(row(index === 0 ? 'syncs' : '', `${sync.name.padEnd(nameWidth)}${what}`));
  });
  const sandbox = config.sandbox;
  if (sandbox !== undefined) {
    lines.push(
      row('sandbox ERP', `${sandbox.erpFile}  (${sandbox.products} products, ${sandbox.salesPerMinute} sales a minute)`),
      row('sandbox shop', `${sandbox.shopCatalog === undefined ? `demo catalogue of ${sandbox.products} products` : `catalogue from ${sandbox.shopCatalog}`}, restoring ${sandbox.shopifyRestoreRate} points/s`),
    );
  }
  return lines;
}
