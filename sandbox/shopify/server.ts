/**
 * HTTP front of the Shopify Admin GraphQL simulator (node:http only).
 *
 * Routes:
 * - `POST /admin/api/{version}/graphql.json`: the Admin API, with Shopify's auth, error bodies,
 *   cost extension, leaky bucket, and the injected faults;
 * - `/_sandbox/...`: inspection and control for tests and demos (not Shopify; same token).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_API_VERSIONS } from './api-versions';
import { FaultInjector, type FaultConfig, type FaultDecision } from './faults';
import { GraphQLEndpoint, type GraphQLRequest } from './graphql-endpoint';
import { loadStateFile, StateSaver } from './persistence';
import type { ShopCatalog } from './catalog-file';
import { buildShopifySchema } from './schema';
import { SimulatorStore } from './store';
import { LeakyBucket } from './throttle';

export type { FaultConfig } from './faults';
export type { SimulatorStats } from './store';
export { SimulatorStore } from './store';
export { StateFileError } from './persistence';

export interface ShopifySimulatorOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default '127.0.0.1'. */
  host?: string;
  /** The `X-Shopify-Access-Token` every request must carry. Required. */
  accessToken: string;
  /** Shop name; the myshopify domain is derived from it. Default 'omnisync demo'. */
  shopName?: string;
  /** Bucket restore rate in points per second. Default 100 (Standard plan); Plus is 1000. */
  restoreRate?: number;
  /** Bucket capacity in points. Default restoreRate × 10. */
  bucketSize?: number;
  /** Demo products to seed (unlisted ones get no Shopify product). Default 1200. */
  productCount?: number;
  /**
   * The integrator's own products and locations instead of the demo catalogue (a file read by
   * readShopCatalog in catalog-file.ts). A state file belongs to one catalogue: one written for
   * another fails the start with a StateFileError saying so.
   */
  catalog?: ShopCatalog;
  /**
   * Locations beyond the demo's two (DEMO_SHOPIFY_LOCATIONS), every product stocked there; a
   * state file saved before one was added loads with its levels empty. Default none (what tests
   * see); the demo adds the partner warehouse's (DEMO_PARTNER_SHOPIFY_LOCATION).
   */
  extraLocations?: ReadonlyArray<{ id: string; name: string }>;
  /** Initial faults; everything off by default. */
  faults?: Partial<FaultConfig>;
  /** Seed of the fault PRNG. Default 1. */
  seed?: number;
  /** API versions served; others get 404. Default ['2025-10', '2026-01', '2026-04']. */
  apiVersions?: string[];
  /**
   * JSON file that keeps the shop's state across restarts (inventory quantities, idempotency
   * keys of the last 24 h). Loaded on start if it exists: an unreadable, corrupt, other-version
   * or other-catalog (productCount) file fails the start with a StateFileError naming it.
   * Saved atomically at most every 2 s while something changed, and on close(). Stats are not
   * kept. Default: none, the state lives in memory only.
   */
  stateFile?: string;
}

export interface ShopifySimulator {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  port: number;
  store: SimulatorStore;
  /** Merges a partial fault config; throws RangeError on invalid values (config unchanged). */
  setFaults(faults: Partial<FaultConfig>): void;
  /**
   * Stops listening and destroys every open socket, hung (timeout fault) ones included; then
   * saves the state file, if any (rejects with StateFileError when that fails).
   */
  close(): Promise<void>;
}

/** Shopify's body for a missing or wrong access token (HTTP 401). */
export const INVALID_TOKEN_BODY = { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' };
/** Shopify's body when the request body is not JSON with a `query` (HTTP 400). */
export const MISSING_QUERY_BODY = { errors: { query: 'Required parameter missing or invalid' } };
/** Body of injected 429s (Shopify's REST wording, which is what its edge answers with). */
export const TOO_MANY_REQUESTS_BODY = {
  errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
};
const NOT_FOUND_BODY = { errors: 'Not Found' };
const SERVICE_UNAVAILABLE_BODY = { errors: 'Service Unavailable' };
/** Injected 502s come from "the edge" as HTML, so clients must cope with non-JSON error bodies. */
const BAD_GATEWAY_HTML =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>There was a problem reaching the shop.</p></body></html>';

/** Demo products seeded when productCount is not given. */
const DEFAULT_PRODUCT_COUNT = 1200;

/** Largest request body read; Shopify's own limit is in the same range. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;

const GRAPHQL_PATH = /^\/admin\/api\/([^/]+)\/graphql\.json$/;

class RequestTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RequestTooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

/** Parses a GraphQL POST body; undefined when Shopify would answer 400. */
function parseGraphQLRequest(raw: string): GraphQLRequest | undefined {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { query, variables, operationName } = body as Record<string, unknown>;
  if (typeof query !== 'string' || query.trim() === '') return undefined;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
  return {
    query,
    variables: (variables as Record<string, unknown> | null | undefined) ?? null,
    operationName: (operationName as string | null | undefined) ?? null,
  };
}

function validateOptions(options: ShopifySimulatorOptions): void {
  if (typeof options.accessToken !== 'string' || options.accessToken === '') throw new RangeError('accessToken is required');
  if (options.restoreRate !== undefined && !(options.restoreRate > 0)) throw new RangeError(`restoreRate must be positive, got ${options.restoreRate}`);
  if (options.bucketSize !== undefined && !(options.bucketSize > 0)) throw new RangeError(`bucketSize must be positive, got ${options.bucketSize}`);
  if (options.productCount !== undefined && !(Number.isInteger(options.productCount) && options.productCount >= 0)) {
    throw new RangeError(`productCount must be a non-negative integer, got ${options.productCount}`);
  }
  if (options.apiVersions !== undefined && options.apiVersions.length === 0) throw new RangeError('apiVersions must not be empty');
  if (options.stateFile !== undefined && options.stateFile === '') throw new RangeError('stateFile must not be empty');
}

export async function startShopifySimulator(options: ShopifySimulatorOptions): Promise<ShopifySimulator> {
  validateOptions(options);
  const restoreRate = options.restoreRate ?? 100;
  const productCount = options.productCount ?? DEFAULT_PRODUCT_COUNT;
  const store = new SimulatorStore({
    shopName: options.shopName,
    productCount,
    ...(options.extraLocations === undefined ? {} : { extraLocations: options.extraLocations }),
    ...(options.catalog === undefined ? {} : { catalog: options.catalog }),
  });
  // Loaded before listening: a bad state file fails the start, and nobody sees a half-loaded shop.
  if (options.stateFile !== undefined) await loadStateFile(options.stateFile, store, productCount, options.catalog?.digest);
  const saver = options.stateFile !== undefined ? new StateSaver(options.stateFile, store, productCount, options.catalog?.digest) : undefined;
  const bucket = new LeakyBucket({ capacity: options.bucketSize ?? restoreRate * 10, restoreRate });
  const faults = new FaultInjector(options.faults ?? {}, options.seed ?? 1);
  const endpoint = new GraphQLEndpoint({ schema: buildShopifySchema(), store, bucket });
  const apiVersions = new Set(options.apiVersions ?? DEFAULT_API_VERSIONS);
  const tokenDigest = createHash('sha256').update(options.accessToken).digest();
  /** Aborted on close(): cancels injected latency so nothing executes after shutdown. */
  const closing = new AbortController();

  const isAuthorized = (req: IncomingMessage): boolean => {
    const header = req.headers['x-shopify-access-token'];
    if (typeof header !== 'string') return false;
    // Compare digests: constant time regardless of the length of what was sent.
    return timingSafeEqual(createHash('sha256').update(header).digest(), tokenDigest);
  };

  /** Applies the drawn fault; returns true when the request is fully handled by it. */
  const injectFaultBeforeExecution = async (decision: FaultDecision, req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (decision.kind === 'dropConnection') {
      store.recordFault('dropConnection');
      req.socket.destroy();
      return true;
    }
    if (decision.kind === 'timeout') {
      // Never answer: the socket stays open until the client gives up or close() destroys it.
      store.recordFault('timeout');
      return true;
    }
    if (decision.latencyMs > 0) {
      store.recordFault('latency');
      try {
        await delay(decision.latencyMs, undefined, { signal: closing.signal });
      } catch {
        req.socket.destroy(); // simulator closing
        return true;
      }
    }
    if (decision.kind === 'tooManyRequests') {
      store.recordFault('tooManyRequests');
      sendJson(res, 429, TOO_MANY_REQUESTS_BODY, { 'retry-after': String(decision.retryAfterSeconds) });
      return true;
    }
    if (decision.kind === 'serverError') {
      store.recordFault('serverError');
      if (decision.status === 503) {
        sendJson(res, 503, SERVICE_UNAVAILABLE_BODY);
      } else {
        res.writeHead(502, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(BAD_GATEWAY_HTML) });
        res.end(BAD_GATEWAY_HTML);
      }
      return true;
    }
    return false;
  };

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, apiVersion: string, rawBody: string): Promise<void> => {
    if (!isAuthorized(req)) return sendJson(res, 401, INVALID_TOKEN_BODY);
    store.recordRequest();
    const request = parseGraphQLRequest(rawBody);
    if (!request) return sendJson(res, 400, MISSING_QUERY_BODY);
    const decision = faults.decide();
    if (await injectFaultBeforeExecution(decision, req, res)) return;
    const response = await endpoint.handle(request, apiVersion);
    if (decision.kind === 'applyThenFail') {
      // The work (writes included) is done; only the answer is lost.
      store.recordFault('applyThenFail');
      return sendJson(res, 503, SERVICE_UNAVAILABLE_BODY);
    }
    sendJson(res, 200, response, { 'x-shopify-api-version': apiVersion });
  };

  const handleSandbox = (req: IncomingMessage, res: ServerResponse, path: string, rawBody: string): void => {
    if (!isAuthorized(req)) return sendJson(res, 401, INVALID_TOKEN_BODY);
    const route = `${req.method ?? ''} ${path}`;
    switch (route) {
      case 'GET /_sandbox/inventory':
        return sendJson(res, 200, { items: store.inventorySnapshot() });
      case 'GET /_sandbox/stats':
        return sendJson(res, 200, store.stats());
      case 'POST /_sandbox/reset-stats':
        store.resetStats();
        return sendJson(res, 200, store.stats());
      case 'GET /_sandbox/faults':
        return sendJson(res, 200, faults.current);
      case 'POST /_sandbox/faults': {
        let patch: unknown;
        try {
          patch = JSON.parse(rawBody);
        } catch {
          return sendJson(res, 400, { errors: 'Request body must be a JSON object of FaultConfig fields' });
        }
        try {
          return sendJson(res, 200, faults.update(patch));
        } catch (error) {
          if (error instanceof RangeError) return sendJson(res, 400, { errors: error.message });
          throw error;
        }
      }
      default:
        return sendJson(res, 404, NOT_FOUND_BODY);
    }
  };

  const server = createServer((req, res) => {
    const handle = async (): Promise<void> => {
      const path = new URL(req.url ?? '/', 'http://simulator').pathname;
      let rawBody: string;
      try {
        rawBody = await readBody(req);
      } catch (error) {
        if (error instanceof RequestTooLarge) return sendJson(res, 413, { errors: 'Request Entity Too Large' }, { connection: 'close' });
        throw error;
      }
      res.setHeader('x-request-id', randomUUID());
      const graphqlMatch = GRAPHQL_PATH.exec(path);
      if (graphqlMatch && req.method === 'POST') {
        const apiVersion = graphqlMatch[1]!;
        if (!apiVersions.has(apiVersion)) return sendJson(res, 404, NOT_FOUND_BODY);
        return handleGraphQL(req, res, apiVersion, rawBody);
      }
      if (path.startsWith('/_sandbox/')) return handleSandbox(req, res, path, rawBody);
      sendJson(res, 404, NOT_FOUND_BODY);
    };
    handle().catch((error: unknown) => {
      process.stderr.write(`shopify simulator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { errors: 'Internal Server Error' });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  saver?.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    store,
    setFaults: (patch) => {
      faults.update(patch);
    },
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        // close() alone waits for open sockets; hung (timeout fault) and keep-alive ones never end.
        server.closeAllConnections();
      }).finally(() => saver?.close()); // no request runs any more: this is the final state
      return closed;
    },
  };
}
