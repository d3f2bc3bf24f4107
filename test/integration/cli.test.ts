/**
 * The omnisync CLI as an operator runs it: real processes, real exit codes, output verbatim.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubFixture, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { omnisync } from '../support/cli';
import { prepareSandboxSftpIdentity } from '../../sandbox/sftp/server';

describe('omnisync CLI', () => {
  let hub: HubFixture;

  beforeAll(async () => {
    // No Temporal needed: these commands talk to the ERP, the shop and the state store only.
    hub = await createHubFixture({ temporalAddress: '127.0.0.1:1', products: 300, pageSize: 100 });
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('config validate: ok for the shipped demo config', async () => {
    // The demo config reads the sandbox SFTP server's keys from ./data/sftp, which `omnisync dev`
    // makes once before loading it (and never replaces): made here the same way.
    await prepareSandboxSftpIdentity(resolve(__dirname, '../../data'));
    const run = await omnisync(['config', 'validate'], { SHOPIFY_ACCESS_TOKEN: 'shpat_x' });
    expect(run.stdout).toBe(
      'omnisync.yaml: ok (3 connectors, 3 syncs)\n' +
        "  erp: stock delta runs read the rows of stany whose zmodyfikowano is later than the last run's: the ERP must set it on every change\n",
    );
    expect(run.code).toBe(0);
  });

  it('worker --serve: refuses a queue nobody uses with exit code 2, before connecting anywhere', async () => {
    const run = await omnisync(['--config', hub.configFile, 'worker', '--serve', 'hub,shopfy'], { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('cannot serve "shopfy": --serve takes "hub" and ids of connectors a sync uses (erp, shopify)\n');
  });

  it('config validate: one line per problem and exit code 2', async () => {
    const bad = join(hub.dir, 'bad.yaml');
    writeFileSync(bad, 'connectors:\n  erp:\n    kind: erp-sql\n    config: {}\n    colour: blue\nsyncs: {}\n');
    const run = await omnisync(['--config', bad, 'config', 'validate']);
    expect(run.code).toBe(2);
    const name = run.stderr.split(':')[0]!;
    expect(name.endsWith('bad.yaml')).toBe(true);
    // The connector's own schema is checked in the same pass as the top level.
    expect(run.stderr).toBe(
      [
        `${name}: connectors.erp.colour: unknown key`,
        `${name}: connectors.erp.config.database: required, expected object`,
        `${name}: connectors.erp.config.tables: erp-sql needs tables (the ERP tables of products, locations and stock) or queries.stock (a query that reads the stock)`,
        '',
      ].join('\n'),
    );
    expect(run.stdout).toBe('');
  });

  it('config validate: every problem of every stage in one pass, verbatim, exit code 2', async () => {
    const bad = join(hub.dir, 'many-problems.yaml');
    writeFileSync(
      bad,
      [
        'temporal:',
        '  apiKey: abc${env:TEMPORAL_KEY_PART}',
        'stateStore:',
        '  driver: postgres',
        '  connectionString: postgresql://omnisync:s3cret@db.internal:5432/omnisync',
        'connectors:',
        '  erp:',
        '    kind: erp-sql',
        '    config:',
        '      database: { driver: sqlite, file: ./erp.sqlite }',
        '      tables:',
        '        products: { table: towary, id: id, sku: indeks, name: nazwa }',
        '        locations: { table: magazyny, id: id, code: symbol }',
        '        stock: { table: stany, id: id, productId: towar_id, locationId: magazyn_id, onHand: ilosc, reserved: zarezerwowano, modifiedAt: zmodyfikowano }',
        '  shopify:',
        '    kind: shopify',
        '    config:',
        '      shopUrl: http://shop.example.com',
        '      accessToken: shpat_literal_token',
        'syncs:',
        '  erp-stock-to-shopify:',
        '    entity: stock',
        '    source: erp',
        '    targets: [shopify]',
        '    mapping: mappings/stock-erp-to-shopify.yaml',
        '    schedule:',
        '      delta: { cron: "*/5 * * * * *" }',
        '      full: { cron: "0 25 * * *" }',
        '',
      ].join('\n'),
    );
    const run = await omnisync(['--config', bad, 'config', 'validate'], { TEMPORAL_KEY_PART: 'x' });
    expect(run.code).toBe(2);
    const name = run.stderr.split(':')[0]!;
    expect(run.stderr.split('\n').filter(Boolean).map((line) => line.slice(name.length + 2))).toEqual([
      'temporal.apiKey: secrets must come entirely from references (${env:NAME} or ${file:path}); inline text next to a reference is refused',
      'stateStore.connectionString: the password in this connection string must come entirely from a reference (e.g. postgresql://user:${env:PGPASSWORD}@host/db), not be written inline',
      'syncs.erp-stock-to-shopify.schedule.delta.cron: "*/5 * * * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6; a seconds or year field is not supported',
      'syncs.erp-stock-to-shopify.schedule.full.cron: "0 25 * * *" is not a valid cron expression: hour 25 is out of range (allowed: 0-23)',
      'connectors.shopify.config.accessToken: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
      'connectors.shopify.config.shopUrl: plain http:// to shop.example.com is refused (only localhost and loopback addresses may use it): use https://, or set allowInsecureHttp: true to accept it',
    ]);
    // The same file makes schedules apply refuse before it contacts any server.
    const apply = await omnisync(['--config', bad, 'schedules', 'apply'], { TEMPORAL_KEY_PART: 'x' });
    expect(apply.code).toBe(2);
    expect(apply.stderr).toBe(run.stderr);
  });

  it('connectors check: one line per connector; a refused token fails with exit code 1', async () => {
    const ok = await omnisync(['--config', hub.configFile, 'connectors', 'check'], { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN });
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ok {3}erp \(erp-sql\): /);
    expect(lines[1]).toBe(
      'ok   shopify (shopify): connected to shop "omnisync demo" (omnisync-demo.myshopify.com), 2 active location(s): Magazyn Warszawa gid://shopify/Location/71001, Sklep Kraków gid://shopify/Location/71002',
    );
    const refused = await omnisync(['--config', hub.configFile, 'connectors', 'check', 'shopify'], { SHOPIFY_ACCESS_TOKEN: 'shpat_wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('FAIL shopify (shopify) [auth]: shopify shopify: check was refused (HTTP 401): check the access token and its scopes\n');
  });

  it('config validate and connectors check erp do not need the shop token: its unset reference is a warning naming who needs it', async () => {
    const validate = await omnisync(['--config', hub.configFile, 'config', 'validate'], {});
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/: ok \(2 connectors, 1 syncs\)\n/);
    expect(validate.stderr).toMatch(
      /: warning: connectors\.shopify\.config\.accessToken: environment variable SHOPIFY_ACCESS_TOKEN is not set: `omnisync worker`, `omnisync dev`, `sync run` of its syncs and `connectors check shopify` will need it\n$/,
    );
    const erp = await omnisync(['--config', hub.configFile, 'connectors', 'check', 'erp'], {});
    expect(erp.code).toBe(0);
    expect(erp.stdout).toMatch(/^ok {3}erp \(erp-sql\): /);
    // The command that connects to the shop still refuses, before connecting anywhere.
    const shop = await omnisync(['--config', hub.configFile, 'connectors', 'check', 'shopify'], {});
    expect(shop.code).toBe(2);
    expect(shop.stderr).toMatch(/connectors\.shopify\.config\.accessToken: environment variable SHOPIFY_ACCESS_TOKEN is not set\n$/);
  });

  it('sync run --dry-run prints what would change and writes nothing', async () => {
    hub.shopify.store.resetStats();
    const run = await omnisync(['--config', hub.configFile, 'sync', 'run', 'erp-stock-to-shopify', '--dry-run'], { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^would set shopify PL-000001 @ gid:\/\/shopify\/Location\/71001: never pushed → \d+$/m);
    expect(run.stdout.trim().split('\n').at(-1)).toBe(
      'dry run erp-stock-to-shopify (full): 300 SKUs read in 4 pages, 600 quantities would change, 0 records would be quarantined, 0 levels counted as zero; nothing was written',
    );
    const state = new DatabaseSync(join(hub.dir, 'state.sqlite'), { readOnly: true, timeout: 5000 });
    try {
      for (const table of ['omnisync_snapshot', 'omnisync_push_batch', 'omnisync_push_outcome', 'omnisync_price_history', 'omnisync_quarantine', 'omnisync_sync_cursor', 'omnisync_crosswalk']) {
        expect((state.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n, table).toBe(0);
      }
    } finally {
      state.close();
    }
    expect(hub.shopify.store.stats().requests).toBe(0);
  });
});
