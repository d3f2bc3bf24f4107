import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareSandboxSftpIdentity } from '../../sandbox/sftp/server';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { DEMO_CONNECTORS_YAML } from '../support/config-text';

const repo = resolve(__dirname, '../..');

/** A config folder with the demo mapping, so relative mapping paths resolve. */
function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-config-'));
  mkdirSync(join(dir, 'mappings'));
  copyFileSync(join(repo, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
  copyFileSync(join(repo, 'mappings/prices-erp-to-shopify.yaml'), join(dir, 'mappings/prices-erp-to-shopify.yaml'));
  return dir;
}

function problemsOf(text: string, env: NodeJS.ProcessEnv = { SHOPIFY_ACCESS_TOKEN: 'shpat_test' }, dir = configDir()): string[] {
  try {
    parseConfig(text, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const VALID = `
${DEMO_CONNECTORS_YAML}syncs:
  erp-stock-to-shopify:
    entity: stock
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    schedule:
      delta: { cron: "*/5 * * * *" }
`;

describe('config loading', () => {
  it('accepts the shipped demo config', async () => {
    // Its SFTP keys come from ./data/sftp, which `omnisync dev` makes once before loading it.
    await prepareSandboxSftpIdentity(join(repo, 'data'));
    const config = parseConfig(readFileSync(join(repo, 'omnisync.yaml'), 'utf8'), join(repo, 'omnisync.yaml'), {
      registry: builtInConnectors(),
      env: { SHOPIFY_ACCESS_TOKEN: 'shpat_demo' },
    });
    expect([...config.connectors.keys()]).toEqual(['erp', 'partner-files', 'shopify']);
    const stockSync = config.syncs.get('erp-stock-to-shopify');
    expect(stockSync?.entity === 'stock' && stockSync.stockMapping.locations).toHaveLength(2);
    expect(config.secretValues).toContain('shpat_demo');
  });

  it('resolves secrets by reference and applies defaults', () => {
    const dir = configDir();
    const config = parseConfig(VALID, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_x' } });
    expect((config.connectors.get('shopify')!.config as { accessToken: string; apiVersion: string }).accessToken).toBe('shpat_x');
    expect((config.connectors.get('shopify')!.config as { apiVersion: string }).apiVersion).toBe('2026-04');
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.stateStore).toEqual({ driver: 'sqlite', file: join(dir, 'data/omnisync.sqlite') });
    expect(config.syncs.get('erp-stock-to-shopify')!.pageSize).toBe(1000);
  });

  it('lets an unresolved reference of a connector the command does not use pass, as a warning naming who needs it', () => {
    const dir = configDir();
    const file = join(dir, 'omnisync.yaml');
    // Every connector must resolve (the default): the unset token is a problem.
    expect(() => parseConfig(VALID, file, { registry: builtInConnectors(), env: {} })).toThrow(/connectors\.shopify\.config\.accessToken: environment variable SHOPIFY_ACCESS_TOKEN is not set/);
    // Only erp's: the shop's token may be missing.
    const config = parseConfig(VALID, file, { registry: builtInConnectors(), env: {}, requireReferencesOf: new Set(['erp']) });
    expect(config.warnings).toEqual([
      'connectors.shopify.config.accessToken: environment variable SHOPIFY_ACCESS_TOKEN is not set: `omnisync worker`, `omnisync dev`, `sync run` of its syncs and `connectors check shopify` will need it',
    ]);
    expect(config.connectors.get('shopify')!.unresolved).toHaveLength(1);
    expect(config.connectors.get('erp')!.unresolved).toBeUndefined();
    // Other problems of that connector are still problems.
    expect(() =>
      parseConfig(VALID.replace('shopUrl: http://127.0.0.1:8601', 'shopUrl: ftp://shop'), file, { registry: builtInConnectors(), env: {}, requireReferencesOf: new Set() }),
    ).toThrow(/connectors\.shopify\.config\.shopUrl: expected an http\(s\) URL/);
    // A required connector's reference stays a problem.
    expect(() => parseConfig(VALID, file, { registry: builtInConnectors(), env: {}, requireReferencesOf: new Set(['shopify']) })).toThrow(/SHOPIFY_ACCESS_TOKEN is not set/);
  });

  it('reads a secret from a file reference', () => {
    const dir = configDir();
    writeFileSync(join(dir, 'token.txt'), 'shpat_from_file\n');
    const config = parseConfig(VALID.replace('${env:SHOPIFY_ACCESS_TOKEN}', '${file:token.txt}'), join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: {} });
    expect((config.connectors.get('shopify')!.config as { accessToken: string }).accessToken).toBe('shpat_from_file');
  });

  it('reports every problem on its own line with its path and what was expected, all stages in one pass', () => {
    const text = VALID.replace('kind: shopify', 'kind: shopify\n    extra: 1')
      .replace('shopUrl: http://127.0.0.1:8601', 'shopUrl: ftp://shop\n      plan: gold')
      .replace('targets: [shopify]', 'targets: [shopfy]')
      .replace('*/5 * * * *', 'every five minutes');
    expect(problemsOf(text)).toEqual([
      'connectors.shopify.extra: unknown key',
      'syncs.erp-stock-to-shopify.schedule.delta.cron: "every five minutes" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 3',
      'connectors.shopify.config.shopUrl: expected an http(s) URL such as https://my-shop.myshopify.com',
      'connectors.shopify.config.plan: expected "standard" or "advanced" or "plus" or "enterprise", got "gold"',
      'syncs.erp-stock-to-shopify.targets[0]: unknown connector "shopfy" (defined: erp, shopify)',
    ]);
  });

  it('checks connectors, syncs and mappings when the top level is broken, without follow-on problems', () => {
    const text = `colour: blue\ntemporal: { namespace: "" }\n${VALID}`
      .replace('kind: erp-sql', 'kind: sap')
      .replace('shopUrl: http://127.0.0.1:8601', 'shopUrl: http://127.0.0.1:8601\n      plan: gold')
      .replace('mapping: mappings/stock-erp-to-shopify.yaml', 'mapping: mappings/missing.yaml')
      .replace('*/5 * * * *', '0 0 L * *');
    // No "unknown connector" for shopify (its config failed, but it is defined), no capability
    // problem for erp (its kind is unknown).
    expect(problemsOf(text)).toEqual([
      'temporal.namespace: expected at least 1 character, got ""',
      'syncs.erp-stock-to-shopify.schedule.delta.cron: "0 0 L * *" is not a valid cron expression: day of month "L": L is not supported by Temporal schedules',
      'colour: unknown key',
      'connectors.erp.kind: unknown connector kind "sap" (known: erp-sql, legacy-files, shopify)',
      'connectors.shopify.config.plan: expected "standard" or "advanced" or "plus" or "enterprise", got "gold"',
      'syncs.erp-stock-to-shopify.mapping: cannot read mapping file mappings/missing.yaml (ENOENT)',
    ]);
  });

  it('does not report connector references when the connectors block itself is broken', () => {
    const text = `connectors: [erp, shopify]\n${VALID.slice(VALID.indexOf('syncs:'))}`.replace('entity: stock', 'entity: stock\n    pageSize: 0');
    expect(problemsOf(text)).toEqual([
      'connectors: expected record, got a list',
      'syncs.erp-stock-to-shopify.pageSize: expected at least 1, got number 0',
    ]);
  });

  it('validates cron expressions completely when the config is loaded', () => {
    expect(problemsOf(VALID.replace('*/5 * * * *', '61 * * * *'))).toEqual([
      'syncs.erp-stock-to-shopify.schedule.delta.cron: "61 * * * *" is not a valid cron expression: minute 61 is out of range (allowed: 0-59)',
    ]);
    expect(problemsOf(VALID.replace('delta: { cron: "*/5 * * * *" }', 'delta: { cron: "0 */5 * * * *" }\n      full: { cron: "@Daily" }'))).toEqual([
      'syncs.erp-stock-to-shopify.schedule.delta.cron: "0 */5 * * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6; a seconds or year field is not supported',
      'syncs.erp-stock-to-shopify.schedule.full.cron: "@Daily" is not a valid cron expression: unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)',
    ]);
    expect(problemsOf(VALID.replace('*/5 * * * *', '0,30 8-18 * JAN-JUN MON-FRI'))).toEqual([]);
    expect(problemsOf(VALID.replace('*/5 * * * *', '@weekly'))).toEqual([]);
  });

  it('reports connector config problems after the file structure is valid', () => {
    const text = VALID.replace('shopUrl: http://127.0.0.1:8601', 'shopUrl: ftp://shop\n      plan: gold').replace('targets: [shopify]', 'targets: [shopfy]');
    expect(problemsOf(text)).toEqual([
      'connectors.shopify.config.shopUrl: expected an http(s) URL such as https://my-shop.myshopify.com',
      'connectors.shopify.config.plan: expected "standard" or "advanced" or "plus" or "enterprise", got "gold"',
      'syncs.erp-stock-to-shopify.targets[0]: unknown connector "shopfy" (defined: erp, shopify)',
    ]);
  });

  it('refuses an inline secret and a missing environment variable', () => {
    expect(problemsOf(VALID.replace('${env:SHOPIFY_ACCESS_TOKEN}', 'shpat_inline'))).toEqual([
      'connectors.shopify.config.accessToken: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
    ]);
    expect(problemsOf(VALID, {})).toEqual(['connectors.shopify.config.accessToken: environment variable SHOPIFY_ACCESS_TOKEN is not set']);
  });

  it('refuses a secret that mixes inline text with a reference', () => {
    expect(problemsOf(VALID.replace('${env:SHOPIFY_ACCESS_TOKEN}', 'shpat_${env:SHOPIFY_ACCESS_TOKEN}'))).toEqual([
      'connectors.shopify.config.accessToken: secrets must come entirely from references (${env:NAME} or ${file:path}); inline text next to a reference is refused',
    ]);
  });

  it('takes the Temporal API key and the state store password only by reference', () => {
    const top = (lines: string) => `${lines}\n${VALID}`;
    const env = { SHOPIFY_ACCESS_TOKEN: 'shpat_test', TEMPORAL_API_KEY: 'tk_from_env', PGPASSWORD: 'pw_from_env', DB: 'omnisync' };
    expect(
      problemsOf(
        top('temporal: { apiKey: tk_inline }\nstateStore: { driver: postgres, connectionString: "postgresql://omnisync:secret@db:5432/omnisync" }'),
        env,
      ),
    ).toEqual([
      'temporal.apiKey: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
      'stateStore.connectionString: the password in this connection string must come entirely from a reference (e.g. postgresql://user:${env:PGPASSWORD}@host/db), not be written inline',
    ]);
    expect(
      problemsOf(top('temporal: { apiKey: "tk_${env:TEMPORAL_API_KEY}" }\nstateStore: { driver: postgres, connectionString: "postgres://u:secret@db/${env:DB}" }'), env),
    ).toEqual([
      'temporal.apiKey: secrets must come entirely from references (${env:NAME} or ${file:path}); inline text next to a reference is refused',
      'stateStore.connectionString: the password in this connection string must come entirely from a reference (e.g. postgresql://user:${env:PGPASSWORD}@host/db), not be written inline',
    ]);
    expect(problemsOf(top('stateStore: { driver: postgres, connectionString: "host=db dbname=omnisync password=secret" }'), env)).toEqual([
      'stateStore.connectionString: the password= in this connection string must come entirely from a reference (e.g. password=${env:PGPASSWORD}), not be written inline',
    ]);

    const dir = configDir();
    const config = parseConfig(
      top('temporal: { apiKey: "${env:TEMPORAL_API_KEY}" }\nstateStore: { driver: postgres, connectionString: "postgresql://omnisync:${env:PGPASSWORD}@db:5432/${env:DB}" }'),
      join(dir, 'omnisync.yaml'),
      { registry: builtInConnectors(), env },
    );
    expect(config.stateStore).toEqual({ driver: 'postgres', connectionString: 'postgresql://omnisync:pw_from_env@db:5432/omnisync', schema: undefined });
    expect(config.temporal.apiKey).toBe('tk_from_env');
    // The password alone is scrubbed from logs too, not only the whole connection string.
    expect(config.secretValues).toEqual(['shpat_test', 'tk_from_env', 'postgresql://omnisync:pw_from_env@db:5432/omnisync', 'pw_from_env']);
  });

  it('takes webhook secrets only by reference, and checks the receiver settings', () => {
    const top = (lines: string) => `${lines}\n${VALID}`;
    const env = { SHOPIFY_ACCESS_TOKEN: 'shpat_test', POS_WEBHOOK_SECRET: 'whsec_from_env_0123456789' };
    expect(problemsOf(top('webhooks: { sources: { pos: { kind: pos, secret: whsec_inline_0123456789 } } }'), env)).toEqual([
      'webhooks.sources.pos.secret: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
    ]);
    expect(problemsOf(top('webhooks: { port: 70000, bodyLimitBytes: 10, sources: { Pos: { kind: till, secret: "${env:POS_WEBHOOK_SECRET}" } } }'), env)).toEqual([
      'webhooks.port: expected at most 65535, got number 70000',
      'webhooks.bodyLimitBytes: expected at least 1024, got number 10',
      'webhooks.sources.Pos: expected a source id of lowercase letters, digits and dashes',
    ]);
    expect(problemsOf(top('webhooks: { sources: { pos: { kind: till, secret: "${env:POS_WEBHOOK_SECRET}" } } }'), env)).toEqual(['webhooks.sources.pos.kind: expected "pos", got "till"']);
    expect(problemsOf(top('webhooks: { sources: {} }'), env)).toEqual(['webhooks.sources: expected at least one source']);

    const config = parseConfig(top('webhooks: { sources: { pos: { kind: pos, secret: "${env:POS_WEBHOOK_SECRET}" } } }'), join(configDir(), 'omnisync.yaml'), { registry: builtInConnectors(), env });
    expect(config.webhooks).toEqual({ host: '127.0.0.1', port: 8090, bodyLimitBytes: 262_144, sources: { pos: { kind: 'pos', secret: 'whsec_from_env_0123456789' } } });
    expect(config.secretValues).toContain('whsec_from_env_0123456789');
  });

  it('takes an ERP database password only by reference; a connection string without one is fine', () => {
    const postgres = (database: string) => VALID.replace('database: { driver: sqlite, file: ./erp.sqlite }', `database: ${database}`);
    expect(problemsOf(postgres('{ driver: postgres, connectionString: "postgresql://reader@erp-db:5432/erp" }'))).toEqual([]);
    expect(problemsOf(postgres('{ driver: postgres, connectionString: "postgresql://reader:${env:ERP_PASSWORD}@erp-db/erp" }'), { SHOPIFY_ACCESS_TOKEN: 'x', ERP_PASSWORD: 'p' })).toEqual([]);
    expect(problemsOf(postgres('{ driver: postgres, connectionString: "postgresql://reader@erp-db/erp", password: hunter2 }'))).toEqual([
      'connectors.erp.config.database.password: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
    ]);
    expect(problemsOf(postgres('{ driver: postgres, connectionString: "postgresql://reader:hunter2@erp-db/erp" }'))).toEqual([
      'connectors.erp.config.database.connectionString: the password in this connection string must come entirely from a reference (e.g. postgresql://user:${env:PGPASSWORD}@host/db), not be written inline',
    ]);
  });

  it('refuses plain http to a shop other than this machine unless allowed', () => {
    const shop = (url: string, extra = '') => VALID.replace('shopUrl: http://127.0.0.1:8601', `shopUrl: ${url}${extra}`);
    expect(problemsOf(shop('http://my-shop.example.com'))).toEqual([
      'connectors.shopify.config.shopUrl: plain http:// to my-shop.example.com is refused (only localhost and loopback addresses may use it): use https://, or set allowInsecureHttp: true to accept it',
    ]);
    // Reported together with the config's other problems.
    expect(problemsOf(shop('http://10.0.0.5:8601', '\n      plan: gold'))).toEqual([
      'connectors.shopify.config.plan: expected "standard" or "advanced" or "plus" or "enterprise", got "gold"',
      'connectors.shopify.config.shopUrl: plain http:// to 10.0.0.5 is refused (only localhost and loopback addresses may use it): use https://, or set allowInsecureHttp: true to accept it',
    ]);
    for (const url of ['https://my-shop.myshopify.com', 'http://localhost:8601', 'http://127.1.2.3:8601', 'http://[::1]:8601']) {
      expect(problemsOf(shop(url)), url).toEqual([]);
    }
    expect(problemsOf(shop('http://my-shop.example.com', '\n      allowInsecureHttp: true'))).toEqual([]);
    expect(problemsOf(shop('http://my-shop.example.com', '\n      allowInsecureHttp: yes'))).toEqual([
      'connectors.shopify.config.allowInsecureHttp: expected boolean, got "yes"',
    ]);
  });

  it('reports an unknown connector kind, a wrong capability and a missing mapping file', () => {
    const text = VALID.replace('kind: erp-sql', 'kind: sap').replace('mapping: mappings/stock-erp-to-shopify.yaml', 'mapping: mappings/missing.yaml');
    expect(problemsOf(text)).toEqual([
      'connectors.erp.kind: unknown connector kind "sap" (known: erp-sql, legacy-files, shopify)',
      'syncs.erp-stock-to-shopify.mapping: cannot read mapping file mappings/missing.yaml (ENOENT)',
    ]);
    const reversed = VALID.replace('source: erp', 'source: shopify').replace('targets: [shopify]', 'targets: [erp]');
    expect(problemsOf(reversed)).toEqual([
      'syncs.erp-stock-to-shopify.source: connector "shopify" (kind shopify) cannot do stock.read (it offers: stock.write, price.write)',
      'syncs.erp-stock-to-shopify.targets[0]: connector "erp" (kind erp-sql) cannot do stock.write (it offers: stock.read, price.read)',
    ]);
  });

  it('checks a price sync: its source must be configured for prices, it runs full only, and its mapping must be a price mapping', () => {
    const text = `
${DEMO_CONNECTORS_YAML}syncs:
  prices:
    entity: price
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    schedule:
      delta: { cron: "*/5 * * * *" }
`;
    expect(problemsOf(text)).toEqual([
      'syncs.prices.source: connector "erp" cannot do price.read with its config: reading prices needs tables.prices and tables.priceLists (the ERP tables of prices and price lists) in its config',
      'syncs.prices.schedule.delta: price syncs run full (a promotion starts or ends without any row changing, so only a full read sees it; only changed prices are pushed)',
      'mappings/stock-erp-to-shopify.yaml: entity: the sync copies price, but the mapping file declares "stock" (expected "entity: price")',
    ]);
  });

  it('holds every price rule problem of a channel with its path, and a hold timeout above the staged batches\' retention', () => {
    const dir = configDir();
    writeFileSync(
      join(dir, 'mappings/bad-prices.yaml'),
      ['entity: price', 'channels:', '  shopify:', '    priceList: DETAL', '    promotionPriceLists: [""]', '    currency: pln', '    pricesIncludeVat: true', 'holdTimeoutHours: 200', ''].join('\n'),
    );
    const text = `
${DEMO_CONNECTORS_YAML.replace('        stock: {', '        priceLists: { table: cenniki, id: id, code: symbol, currency: waluta }\n        prices: { table: ceny, id: id, productId: towar_id, priceListId: cennik_id, gross: brutto, vatRate: stawka_vat, modifiedAt: zmodyfikowano }\n        stock: {')}syncs:
  prices:
    entity: price
    source: erp
    targets: [shopify]
    mapping: mappings/bad-prices.yaml
`;
    const problems = problemsOf(text, undefined, dir);
    expect(problems).toEqual([
      'mappings/bad-prices.yaml: channels.shopify.promotionPriceLists[0]: expected a price list code, not an empty one',
      'mappings/bad-prices.yaml: channels.shopify.currency: expected an ISO 4217 currency code such as "PLN"',
      'mappings/bad-prices.yaml: holdTimeoutHours: expected at most 144, got number 200',
    ]);
  });

  it('reports mapping file problems with the file name', () => {
    const dir = configDir();
    writeFileSync(join(dir, 'mappings/stock-erp-to-shopify.yaml'), 'entity: stock\nlocations:\n  - target: T\n    sources: []\n    safetyBufer: 1\n');
    expect(problemsOf(VALID, undefined, dir)).toEqual([
      'mappings/stock-erp-to-shopify.yaml: locations[0].sources: expected at least 1 item, got a list',
      'mappings/stock-erp-to-shopify.yaml: locations[0].safetyBufer: unknown key',
    ]);
  });

  it('refuses a sync page larger than its source reads at once', () => {
    expect(problemsOf(VALID.replace('mapping: mappings/stock-erp-to-shopify.yaml', 'mapping: mappings/stock-erp-to-shopify.yaml\n    pageSize: 5000'))).toEqual([
      'syncs.erp-stock-to-shopify.pageSize: 5000 is more than connector "erp" reads per page (1000); raise connectors.erp.config.pageSize or lower this',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('connectors:\n  erp: [unclosed\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBe('line 3, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]');
  });
});
