import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsInUse } from '../../cli/dev-banner';
import { parseConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { DEMO_CONNECTORS_YAML } from '../support/config-text';

const repo = resolve(__dirname, '../..');

function loaded(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-banner-'));
  mkdirSync(join(dir, 'mappings'));
  copyFileSync(join(repo, 'mappings/stock-erp-to-shopify.yaml'), join(dir, 'mappings/stock-erp-to-shopify.yaml'));
  return parseConfig(text, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_secret_value', PGPASSWORD: 'hunter2' } });
}

const CONFIG = `
stateStore: { driver: postgres, connectionString: "postgresql://omnisync:\${env:PGPASSWORD}@db:5432/hub", schema: omnisync }
logging: { level: warn }
sandbox: { products: 5000, shopifyRestoreRate: 1000, salesPerMinute: 12 }
${DEMO_CONNECTORS_YAML}syncs:
  erp-stock-to-shopify:
    entity: stock
    source: erp
    targets: [shopify]
    mapping: mappings/stock-erp-to-shopify.yaml
    pageSize: 500
    schedule:
      delta: { cron: "*/5 * * * *" }
      full: { cron: "0 3 * * *", paused: true }
`;

describe('omnisync dev banner: settings in use', () => {
  it('shows the effective log level and format, the state store without its connection string, each sync and the sandbox', () => {
    const lines = settingsInUse(loaded(CONFIG), { LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }, true);
    const text = lines.join('\n');
    expect(lines[0]).toMatch(/^ {2}config {12}.*omnisync\.yaml {2}\(log level debug from LOG_LEVEL, json logs\)$/);
    expect(text).toContain('state store       PostgreSQL, schema omnisync');
    expect(text).toContain('syncs             erp-stock-to-shopify  stock erp → shopify, pages of 500; delta "*/5 * * * *", full "0 3 * * *" (paused)');
    expect(text).toMatch(/sandbox ERP {7}\S*erp\.sqlite {2}\(5000 products, 12 sales a minute\)/);
    expect(text).toContain('sandbox shop      demo catalogue of 5000 products, restoring 1000 points/s');
    expect(text).not.toMatch(/hunter2|shpat_secret_value|postgresql:/);
  });

  it('uses the config’s level and a terminal’s pretty format when the environment says nothing', () => {
    const [config] = settingsInUse(loaded(CONFIG), {}, true);
    expect(config).toContain('(log level warn, pretty logs)');
  });
});
