import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';

const repo = resolve(__dirname, '../..');

/** A config folder with the demo mapping, so relative mapping paths resolve. */
function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-config-'));
  mkdirSync(join(dir, 'mappings'));
  copyFileSync(join(repo, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
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
connectors:
  erp:
    kind: erp-sql
    config:
      database: { driver: sqlite, file: ./erp.sqlite }
      tables:
        products: { table: towary, id: id, sku: indeks, name: nazwa }
        locations: { table: magazyny, id: id, code: symbol }
        stock: { table: stany, id: id, productId: towar_id, locationId: magazyn_id, onHand: ilosc, reserved: zarezerwowano, modifiedAt: zmodyfikowano }
  shopify:
    kind: shopify
    config:
      shopUrl: http://127.0.0.1:8601
      accessToken: \${env:SHOPIFY_ACCESS_TOKEN}
syncs:
  erp-stock-to-shopify:
    entity: stock
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    schedule:
      delta: { cron: "*/5 * * * *" }
`;

describe('config loading', () => {
  it('accepts the shipped demo config', () => {
    const config = parseConfig(readFileSync(join(repo, 'omnisync.yaml'), 'utf8'), join(repo, 'omnisync.yaml'), {
      registry: builtInConnectors(),
      env: { SHOPIFY_ACCESS_TOKEN: 'shpat_demo' },
    });
    expect([...config.connectors.keys()]).toEqual(['erp', 'shopify']);
    expect(config.syncs.get('erp-stock-to-shopify')?.stockMapping.locations).toHaveLength(2);
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

  it('reads a secret from a file reference', () => {
    const dir = configDir();
    writeFileSync(join(dir, 'token.txt'), 'shpat_from_file\n');
    const config = parseConfig(VALID.replace('${env:SHOPIFY_ACCESS_TOKEN}', '${file:token.txt}'), join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: {} });
    expect((config.connectors.get('shopify')!.config as { accessToken: string }).accessToken).toBe('shpat_from_file');
  });

  it('reports every problem on its own line with its path and what was expected', () => {
    const text = VALID.replace('kind: shopify', 'kind: shopify\n    extra: 1')
      .replace('shopUrl: http://127.0.0.1:8601', 'shopUrl: ftp://shop\n      plan: gold')
      .replace('targets: [shopify]', 'targets: [shopfy]')
      .replace('*/5 * * * *', 'every five minutes');
    expect(problemsOf(text)).toEqual([
      'connectors.shopify.extra: unknown key',
      'syncs.erp-stock-to-shopify.schedule.delta.cron: expected a cron expression with 5 fields (e.g. "*/5 * * * *") or @hourly/@daily',
    ]);
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

  it('reports an unknown connector kind, a wrong capability and a missing mapping file', () => {
    const text = VALID.replace('kind: erp-sql', 'kind: sap').replace('mapping: mappings/stock-erp-to-shopify.yaml', 'mapping: mappings/missing.yaml');
    expect(problemsOf(text)).toEqual([
      'connectors.erp.kind: unknown connector kind "sap" (known: erp-sql, shopify)',
      'syncs.erp-stock-to-shopify.mapping: cannot read mapping file mappings/missing.yaml (ENOENT)',
    ]);
    const reversed = VALID.replace('source: erp', 'source: shopify').replace('targets: [shopify]', 'targets: [erp]');
    expect(problemsOf(reversed)).toEqual([
      'syncs.erp-stock-to-shopify.source: connector "shopify" (kind shopify) cannot do stock.read (it offers: stock.write)',
      'syncs.erp-stock-to-shopify.targets[0]: connector "erp" (kind erp-sql) cannot do stock.write (it offers: stock.read)',
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
