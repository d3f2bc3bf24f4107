import { describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../config/load';
import { servedTaskQueues } from '../../worker';

const config = { syncs: new Map([['erp-stock-to-shopify', { source: 'erp', targets: ['shopify'] }]]) } as unknown as Pick<LoadedConfig, 'syncs'>;

describe('servedTaskQueues (worker --serve)', () => {
  it('serves everything by default', () => {
    expect(servedTaskQueues(config)).toEqual({ hub: true, connectors: ['erp', 'shopify'] });
  });

  it('serves what it is given', () => {
    expect(servedTaskQueues(config, ['hub', 'erp'])).toEqual({ hub: true, connectors: ['erp'] });
    expect(servedTaskQueues(config, ['shopify'])).toEqual({ hub: false, connectors: ['shopify'] });
  });

  it('names what may be served when given something else', () => {
    expect(() => servedTaskQueues(config, ['hub', 'shopfy'])).toThrow('cannot serve "shopfy": --serve takes "hub" and ids of connectors a sync uses (erp, shopify)');
    expect(() => servedTaskQueues(config, [])).toThrow('nothing to serve: --serve takes "hub" and ids of connectors a sync uses (erp, shopify)');
  });
});
