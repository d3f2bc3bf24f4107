/**
 * Shopify connector tests' common ground: a SQLite state store for the crosswalk (one per test
 * file), simulators and connector instances made per test and closed after it.
 *
 * Call `useShopifyConnectorHarness` at the top level of a test file: it registers the hooks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ConnectorInstance } from '../../connectors/contract';
import { ShopifyConfig, shopifyManifest } from '../../connectors/shopify';
import { startShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from '../../sandbox/shopify/server';
import { openStateStore, type KyselyStateStore } from '../../state/kysely-store';

export interface ShopifyConnectorHarness {
  /** The state store holding the connectors' crosswalks (set once the file's tests start). */
  readonly state: KyselyStateStore;
  /** The folder of the state store, the connectors' base dir. */
  readonly stateDir: string;
  /** A simulator with the file's token and products, closed after the test. */
  simulator(options?: Partial<ShopifySimulatorOptions>): Promise<ShopifySimulator>;
  /** A connector instance as the worker builds it (config parsed by the schema, crosswalk in the state store), closed after the test. */
  connector(sim: ShopifySimulator, config?: Record<string, unknown>, id?: string): ConnectorInstance;
  /** A connector id not used before in this file. */
  nextConnectorId(): string;
  /** Runs `close` after the current test. */
  closeAfterTest(close: () => Promise<void>): void;
}

export function useShopifyConnectorHarness(options: { token: string; productCount: number; idPrefix: string }): ShopifyConnectorHarness {
  let state: KyselyStateStore | undefined;
  let stateDir: string | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  let connectorCounter = 0;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), `omnisync-${options.idPrefix}-test-`));
    state = openStateStore({ driver: 'sqlite', file: join(stateDir, 'state.sqlite') });
    await state.migrate();
  });

  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });

  afterAll(async () => {
    await state?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  const harness: ShopifyConnectorHarness = {
    get state() {
      if (state === undefined) throw new Error('the harness state store is opened in beforeAll');
      return state;
    },
    get stateDir() {
      if (stateDir === undefined) throw new Error('the harness state folder is made in beforeAll');
      return stateDir;
    },
    async simulator(simulatorOptions = {}) {
      const sim = await startShopifySimulator({ accessToken: options.token, productCount: options.productCount, ...simulatorOptions });
      cleanups.push(() => sim.close());
      return sim;
    },
    connector(sim, config = {}, id = harness.nextConnectorId()) {
      const parsed = ShopifyConfig.parse({ shopUrl: sim.url, accessToken: options.token, ...config });
      const instance = shopifyManifest.create(id, parsed, { logger: pino({ level: 'silent' }), crosswalk: harness.state.crosswalk(id), baseDir: harness.stateDir });
      cleanups.push(() => instance.close());
      return instance;
    },
    nextConnectorId: () => `${options.idPrefix}-${++connectorCounter}`,
    closeAfterTest: (close) => void cleanups.push(close),
  };
  return harness;
}
