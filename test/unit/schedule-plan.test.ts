import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { SchedulePlanError, applySchedules, planSchedules, scheduleId } from '../../temporal/sync-starts';
import { DEMO_CONNECTORS_YAML } from '../support/config-text';

const repo = resolve(__dirname, '../..');

const CONFIG = `
${DEMO_CONNECTORS_YAML}syncs:
  erp-stock-to-shopify:
    entity: stock
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    schedule:
      delta: { cron: "*/5 * * * *" }
      full: { cron: "0 3 * * *", paused: true }
  erp-stock-nightly:
    entity: stock
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    schedule:
      full: { cron: "@daily" }
`;

function loadedConfig(): LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-schedules-'));
  mkdirSync(join(dir, 'mappings'));
  copyFileSync(join(repo, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
  return parseConfig(CONFIG, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_test' } });
}

/** The same config with cron expressions the loader would have refused (a config built in code). */
function withCrons(config: LoadedConfig, crons: Record<string, string>): LoadedConfig {
  const syncs = new Map(
    [...config.syncs].map(([name, sync]) => {
      const schedule = Object.fromEntries(
        Object.entries(sync.schedule).map(([mode, entry]) => [mode, { ...entry!, cron: crons[`${name}.${mode}`] ?? entry!.cron }]),
      );
      return [name, { ...sync, schedule }];
    }),
  );
  return { ...config, syncs };
}

/** A Temporal client that holds schedules in memory and records every change. */
function fakeClient(existing: string[]) {
  const schedules = new Set(existing);
  const changes: string[] = [];
  const client = {
    schedule: {
      getHandle: (id: string) => ({
        describe: async () => {
          if (!schedules.has(id)) throw new ScheduleNotFoundError('not found', id);
          return {};
        },
        update: async () => {
          changes.push(`update ${id}`);
        },
        delete: async () => {
          schedules.delete(id);
          changes.push(`delete ${id}`);
        },
      }),
      create: async (options: { scheduleId: string }) => {
        schedules.add(options.scheduleId);
        changes.push(`create ${options.scheduleId}`);
      },
      list: async function* () {
        for (const scheduleId of [...schedules]) yield { scheduleId };
      },
    },
  };
  return { client: client as unknown as Client, changes };
}

const logger = pino({ level: 'silent' });

describe('schedule plan', () => {
  it('builds every wanted schedule from the config', () => {
    const plan = planSchedules(loadedConfig());
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.schedules.map((s) => [s.id, s.path, s.spec.cronExpressions, s.paused])).toEqual([
      ['omnisync:stock-sync:erp-stock-to-shopify:delta', 'syncs.erp-stock-to-shopify.schedule.delta.cron', ['*/5 * * * *'], false],
      ['omnisync:stock-sync:erp-stock-to-shopify:full', 'syncs.erp-stock-to-shopify.schedule.full.cron', ['0 3 * * *'], true],
      ['omnisync:stock-sync:erp-stock-nightly:full', 'syncs.erp-stock-nightly.schedule.full.cron', ['@daily'], false],
    ]);
  });

  it('reports every invalid schedule with its config path', () => {
    const config = withCrons(loadedConfig(), { 'erp-stock-to-shopify.full': '61 * * * *', 'erp-stock-nightly.full': '0 0 0 * * *' });
    expect(planSchedules(config)).toEqual({
      ok: false,
      problems: [
        'syncs.erp-stock-to-shopify.schedule.full.cron: "61 * * * *" is not a valid cron expression: minute 61 is out of range (allowed: 0-59)',
        'syncs.erp-stock-nightly.schedule.full.cron: "0 0 0 * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6; a seconds or year field is not supported',
      ],
    });
  });

  it('changes nothing on the server when one schedule is invalid', async () => {
    const { client, changes } = fakeClient([scheduleId({ entity: 'stock', name: 'old-sync' }, 'delta')]);
    const config = withCrons(loadedConfig(), { 'erp-stock-nightly.full': '@Daily' });
    const error = await applySchedules(client, config, logger).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SchedulePlanError);
    expect((error as SchedulePlanError).problems).toEqual([
      'syncs.erp-stock-nightly.schedule.full.cron: "@Daily" is not a valid cron expression: unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)',
    ]);
    expect(changes).toEqual([]);
  });

  it('deletes the schedules of every entity whose sync left the config, never schedules of entities it does not know or without the prefix', async () => {
    const { client, changes } = fakeClient([
      'omnisync:stock-sync:erp-stock-to-shopify:delta',
      'omnisync:stock-sync:removed-sync:full',
      'omnisync:price-sync:erp-prices:full',
      'omnisync:loyalty-sync:points:full',
      'omnisync:maintenance',
      'someone-else:nightly',
    ]);
    const applied = await applySchedules(client, loadedConfig(), logger);
    expect(applied).toEqual({
      created: ['omnisync:stock-sync:erp-stock-to-shopify:full', 'omnisync:stock-sync:erp-stock-nightly:full'],
      updated: ['omnisync:stock-sync:erp-stock-to-shopify:delta'],
      deleted: ['omnisync:stock-sync:removed-sync:full', 'omnisync:price-sync:erp-prices:full'],
    });
    expect(changes).toEqual([
      'update omnisync:stock-sync:erp-stock-to-shopify:delta',
      'create omnisync:stock-sync:erp-stock-to-shopify:full',
      'create omnisync:stock-sync:erp-stock-nightly:full',
      'delete omnisync:stock-sync:removed-sync:full',
      'delete omnisync:price-sync:erp-prices:full',
    ]);
  });
});
