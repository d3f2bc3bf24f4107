/**
 * Shopify simulators for tests that talk to one over real HTTP: started per test and closed
 * after it, and the GraphQL call every such test makes. One place, so the simulator tests of
 * inventory and of prices start and call it the same way.
 */
import { afterEach, expect } from 'vitest';
import { startShopifySimulator, type ShopifySimulator, type ShopifySimulatorOptions } from '../../sandbox/shopify/server';

/** The token the simulators of these tests accept. */
export const SIMULATOR_TOKEN = 'shpat_test_token';

// Response bodies are checked field by field, so `any` keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * A `start` for this test file: each simulator it starts is closed after the test that started
 * it. 40 demo products keep startup fast (SKU PL-000001 … PL-000040, all listed).
 */
export function simulatorsClosedAfterEach(): (options?: Partial<ShopifySimulatorOptions>) => Promise<ShopifySimulator> {
  const running: ShopifySimulator[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((simulator) => simulator.close()));
  });
  return async (options = {}) => {
    const simulator = await startShopifySimulator({ accessToken: SIMULATOR_TOKEN, productCount: 40, ...options });
    running.push(simulator);
    return simulator;
  };
}

export interface GraphQLCallOptions {
  version?: string;
  /** Default SIMULATOR_TOKEN; null sends none. */
  token?: string | null;
  signal?: AbortSignal;
}

/** POSTs a body (a string as it is, anything else as JSON) to the simulator's GraphQL endpoint. */
export async function postToSimulator(simulator: ShopifySimulator, body: unknown, options: GraphQLCallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? SIMULATOR_TOKEN : options.token;
  if (token !== null) headers['x-shopify-access-token'] = token;
  return fetch(`${simulator.url}/admin/api/${options.version ?? '2026-04'}/graphql.json`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: options.signal,
  });
}

/** A GraphQL call that must be answered with HTTP 200; the whole response body. */
export async function simulatorGraphql(simulator: ShopifySimulator, query: string, variables?: Record<string, unknown>, options?: GraphQLCallOptions): Promise<Json> {
  const response = await postToSimulator(simulator, { query, variables }, options);
  expect(response.status).toBe(200);
  return response.json();
}
