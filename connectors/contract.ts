/**
 * The connector contract (docs/architecture.md).
 *
 * A connector kind is a folder under connectors/ exporting a `ConnectorManifest` made by
 * `defineConnector()`: its kind, a strict zod schema of its config (secret fields and secret
 * headers marked), its rate budget and batch limits, a client factory, and its operations keyed
 * by capability (`<entity>.<read|write>`), from which its capabilities are derived. The registry
 * (connectors/registry.ts) is the only place that lists kinds; workflows never name one.
 */
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { ItemResult } from '../core/errors';
import type { CrosswalkStore, RejectedRecord, StockCursor, StockLevel, StockReadMode, StockUpdate, StockUpdateKey } from '../core/model';
import type { StockWriteLimits } from '../core/stock-limits';
import type { Money } from '../core/money';
import type { PriceListEntry } from '../core/price-rules';
import type { ConnectorMetrics } from '../observability/metrics';

export type { RejectedRecord, StockCursor, StockReadMode, StockUpdate, StockUpdateKey } from '../core/model';

/** The operation a connector offers for each capability. */
export interface OperationTypes {
  'stock.read': StockSource;
  'stock.write': StockTarget;
  'price.read': PriceSource;
  'price.write': PriceTarget;
}

/** `<entity>.<read|write>`: what a connector can do. */
export type Capability = keyof OperationTypes;

/** Every capability, in a stable order (manifests list theirs in this order). */
export const CAPABILITIES = ['stock.read', 'stock.write', 'price.read', 'price.write'] as const satisfies readonly Capability[];

/** Items per write call for a capability whose manifest declares no maxBatchSize. */
export const DEFAULT_MAX_BATCH_SIZE = 100;

/** Items per write call of `capability`: the manifest's declared maximum, or the default. */
export function writeBatchSize(manifest: Pick<ConnectorManifest, 'maxBatchSize'> | undefined, capability: Capability): number {
  return manifest?.maxBatchSize[capability] ?? DEFAULT_MAX_BATCH_SIZE;
}

/** A connector instance's operations, by capability. */
export type ConnectorOperations = { readonly [C in Capability]?: OperationTypes[C] };

/**
 * How fast a connector instance may call its remote system, as data. Used to derive the
 * server-enforced activity rate of the instance's task queue (`maxTaskQueueActivitiesPerSecond`)
 * and by clients that pace themselves.
 */
export type RateBudget =
  | { kind: 'unlimited' }
  | { kind: 'requests'; perSecond: number; burst: number }
  /** Cost-based leaky bucket (Shopify): points restored per second, bucket size, cost of one write call. */
  | { kind: 'cost'; pointsPerSecond: number; bucketSize: number; writeCost: number };

/** Whole calls per second the budget allows for write calls. Infinity when unlimited. */
export function writeCallsPerSecond(budget: RateBudget): number {
  switch (budget.kind) {
    case 'unlimited':
      return Number.POSITIVE_INFINITY;
    case 'requests':
      return budget.perSecond;
    case 'cost':
      return budget.pointsPerSecond / budget.writeCost;
  }
}

/**
 * The activity rate the Temporal server should enforce on a connector instance's task queue,
 * given how many remote calls one activity makes at most. Undefined when the budget is unlimited.
 */
export function taskQueueActivityRate(budget: RateBudget, callsPerActivity: number): number | undefined {
  const calls = writeCallsPerSecond(budget);
  if (!Number.isFinite(calls)) return undefined;
  return calls / Math.max(1, callsPerActivity);
}

export interface CheckResult {
  ok: boolean;
  /** One line an operator can act on, e.g. "connected to shop Demo (2 locations)". */
  detail: string;
}


export interface StockPage {
  /**
   * Every stock level of every SKU the page covers (all of a SKU's locations, so availability
   * per channel can be summed without another read).
   */
  levels: StockLevel[];
  /** SKUs the page covers, including SKUs with no stock rows (they become zero). */
  skus: string[];
  /** Where the next page starts; null when this page was the last. */
  nextCursor: StockCursor | null;
  /**
   * Where a later run resumes after this page, even when it was the last one (delta: the last
   * row read); null when the page read nothing. Stored only once the page's data is pushed.
   */
  resumeCursor: StockCursor | null;
  /** Source rows that could not be read as stock (bad numbers, nulls): quarantined, never dropped. */
  rejected: RejectedRecord[];
  /**
   * SKUs of the page the source marks as not for sale (blocked, withdrawn): every channel shows
   * 0 for them, whatever their stock. Absent: all are for sale.
   */
  notForSale?: string[];
}


export interface StockReadRequest {
  mode: StockReadMode;
  /** Null starts from the beginning (full) or from the epoch (delta); delta runs pass the stored cursor. */
  cursor: StockCursor | null;
  limit: number;
  /**
   * Whether SKUs differing only in letter case count as one (a target of the sync compares them
   * so). Sources report every row of a SKU held by several records as rejected, instead of
   * letting the rows overwrite each other in the targets. Surrounding whitespace never counts.
   * Default false.
   */
  caseInsensitiveSkus?: boolean;
}

export interface StockSource {
  /** Reads one page (see StockReadRequest). */
  readStockPage(request: StockReadRequest): Promise<StockPage>;
}


/** Writes absolute stock quantities. */
export interface StockWriter {
  /**
   * Sets absolute quantities. Idempotent per `idempotencyKey` where the API supports it.
   * Returns one result per update; throws only when the whole call failed (transient or auth),
   * never because one item was bad.
   */
  setStock(updates: StockUpdate[], idempotencyKey: string): Promise<ItemResult<StockUpdateKey>[]>;
}

export interface StockTarget extends StockWriter {
  /** Write calls one activity may keep in flight (the client's pacer still governs the rate). */
  readonly maxConcurrentCalls: number;
  /**
   * Optional. Called once per push with the SKUs of all its updates, before any write: a
   * target that maps SKUs to ids of its own resolves them here, the unknown ones in as few
   * requests as its API allows rather than a few in every write call (each lookup request
   * spends rate budget that writes could use). The push then writes through the returned
   * writer, which reuses these resolutions instead of reading them again for every call.
   * Throws like setStock; when `signal` aborts (the push is cancelled), stops looking up and
   * throws its reason.
   */
  preparePush?(skus: readonly string[], signal?: AbortSignal): Promise<StockWriter>;
}

/**
 * Where a price read resumes: opaque to the hub, owned and validated by the connector that
 * wrote it (JSON, stored as it is). Null starts from the beginning.
 */
export type PriceCursor = unknown;

export interface PriceReadRequest {
  mode: StockReadMode;
  cursor: PriceCursor | null;
  limit: number;
  /** Only entries of these price lists (the ones a sync's channels use). Default: every list. */
  priceLists?: readonly string[];
}

export interface PricePage {
  /** Price list entries of the page, in the source's key order. */
  entries: PriceListEntry[];
  /** Where the next page starts; null when this page was the last. */
  nextCursor: PriceCursor | null;
  /** Where a later run resumes after this page, even the last one; null when it read nothing. */
  resumeCursor: PriceCursor | null;
  /** Source rows that could not be read as prices: quarantined, never dropped. */
  rejected: RejectedRecord[];
}

/** Reads price list entries in pages (full: every entry; delta: entries changed after the cursor). */
export interface PriceSource {
  readPricePage(request: PriceReadRequest): Promise<PricePage>;
}

/** The price one channel SKU should show. */
export interface PriceUpdate {
  sku: string;
  price: Money;
  /** The "was" price; null clears it; absent leaves it as it is. */
  compareAt?: Money | null;
  /**
   * EU Omnibus: the lowest price the channel showed in the 30 days before this update (the hub's
   * price history), for channels that carry it in a field of their own (Shopify: a metafield).
   * Absent: the target leaves its field as it is.
   */
  lowestPrior30Days?: Money;
}

/**
 * Writes prices. Returns one result per update; throws only when the whole call failed, or with
 * the reason of `signal` when it aborts (the push is cancelled) before every update was sent.
 */
export interface PriceTarget {
  setPrices(updates: readonly PriceUpdate[], idempotencyKey: string, signal?: AbortSignal): Promise<ItemResult<{ sku: string }>[]>;
}

export interface ConnectorInstance {
  readonly id: string;
  readonly kind: string;
  /** The operations of the capabilities the kind offers. */
  readonly operations: ConnectorOperations;
  check(): Promise<CheckResult>;
  close(): Promise<void>;
}

/** What a connector may use from the hub. */
export interface ConnectorDeps {
  logger: Logger;
  /** Connector-scoped crosswalk (e.g. SKU → remote inventory item id). */
  crosswalk: CrosswalkStore;
  /** Resolves relative file paths in config (e.g. a SQLite file) against the config's folder. */
  baseDir: string;
  /** Where the instance reports its API cost and rate-limit waits (the worker's metrics). Optional. */
  metrics?: ConnectorMetrics;
}

/**
 * A connector kind, as the hub uses it: everything is derived from the definition given to
 * `defineConnector`, and its functions take the config the loader validated with `configSchema`.
 */
export interface ConnectorManifest {
  /** Stable kind id used in config files (`kind: shopify`). */
  readonly kind: string;
  readonly title: string;
  /** Derived from the definition's operations. */
  readonly capabilities: readonly Capability[];
  /** Strict zod schema of the connector's `config:` block. Unknown keys are errors. */
  readonly configSchema: z.ZodType;
  /**
   * Dotted paths inside the config that hold secrets. They must be given by reference
   * (`${env:NAME}` or `${file:path}`) and are redacted from logs.
   */
  readonly secretFields: readonly string[];
  /** HTTP headers that carry a secret (lower case), redacted from logs wherever they appear. */
  readonly secretHeaders: readonly string[];
  rateBudget(config: unknown): RateBudget;
  /**
   * Why an instance with this config cannot serve a capability its kind offers (e.g. an erp-sql
   * instance without price tables cannot read prices), or undefined when it can. Checked by the
   * config loader for every sync, so such a config fails validation instead of every run.
   */
  missingFor(capability: Capability, config: unknown): string | undefined;
  /** Largest page a source may be asked for; a sync's pageSize above it is a config error. Undefined: no limit. */
  maxPageSize(config: unknown): number | undefined;
  /**
   * What an operator should know about how an instance with this config behaves (e.g. how its
   * delta runs find changes), one sentence each: `config validate` prints them.
   */
  notes(config: unknown): string[];
  /**
   * Most items one call of a capability accepts (e.g. Shopify stock.write: 250); the push
   * splits its items into calls of this size. Default DEFAULT_MAX_BATCH_SIZE.
   */
  readonly maxBatchSize: Partial<Record<Capability, number>>;
  /**
   * What the target accepts per item, checked before anything is sent (core/stock-limits.ts).
   * Default for stock: DEFAULT_STOCK_WRITE_LIMITS.
   */
  readonly writeLimits?: { stock?: StockWriteLimits };
  create(id: string, config: unknown, deps: ConnectorDeps): ConnectorInstance;
}

/** Builds the operation of one capability from the connector's client and validated config. */
type OperationFactory<C extends Capability, Config, Client> = (context: { id: string; config: Config; client: Client; deps: ConnectorDeps }) => OperationTypes[C];

/** What a connector kind declares; see defineConnector. */
export interface ConnectorDefinition<Schema extends z.ZodType, Client> {
  kind: string;
  title: string;
  configSchema: Schema;
  secretFields: readonly string[];
  /** Default: none. */
  secretHeaders?: readonly string[];
  rateBudget(config: z.output<Schema>): RateBudget;
  /** See ConnectorManifest.missingFor. Default: every capability the operations offer is served. */
  missingFor?(capability: Capability, config: z.output<Schema>): string | undefined;
  maxPageSize?(config: z.output<Schema>): number;
  /** See ConnectorManifest.notes. Default: none. */
  notes?(config: z.output<Schema>): string[];
  maxBatchSize?: Partial<Record<Capability, number>>;
  writeLimits?: { stock?: StockWriteLimits };
  /** The transport shared by the instance's operations (one per instance: one pacer, one pool). */
  connect(id: string, config: z.output<Schema>, deps: ConnectorDeps): Client;
  check(client: Client, config: z.output<Schema>): Promise<CheckResult>;
  close(client: Client): Promise<void>;
  /** The operations, by capability: the kind's capabilities are exactly these keys. */
  operations: { [C in Capability]?: OperationFactory<C, z.output<Schema>, Client> };
}

/**
 * Turns a connector definition into the manifest the hub registers. Capabilities come from the
 * operations the definition gives; the config the hub passes back is parsed with the kind's own
 * schema, so every function sees it typed (the loader validated it already: parsing it again
 * only restores its type).
 */
export function defineConnector<Schema extends z.ZodType, Client>(definition: ConnectorDefinition<Schema, Client>): ConnectorManifest {
  const typed = (config: unknown): z.output<Schema> => definition.configSchema.parse(config);
  return {
    kind: definition.kind,
    title: definition.title,
    capabilities: CAPABILITIES.filter((capability) => definition.operations[capability] !== undefined),
    configSchema: definition.configSchema,
    secretFields: definition.secretFields,
    secretHeaders: definition.secretHeaders ?? [],
    maxBatchSize: definition.maxBatchSize ?? {},
    ...(definition.writeLimits === undefined ? {} : { writeLimits: definition.writeLimits }),
    rateBudget: (config) => definition.rateBudget(typed(config)),
    missingFor: (capability, config) => definition.missingFor?.(capability, typed(config)),
    maxPageSize: (config) => definition.maxPageSize?.(typed(config)),
    notes: (config) => definition.notes?.(typed(config)) ?? [],
    create(id, rawConfig, deps) {
      const config = typed(rawConfig);
      const client = definition.connect(id, config, deps);
      const context = { id, config, client, deps };
      const operations: ConnectorOperations = {
        'stock.read': definition.operations['stock.read']?.(context),
        'stock.write': definition.operations['stock.write']?.(context),
        'price.read': definition.operations['price.read']?.(context),
        'price.write': definition.operations['price.write']?.(context),
      };
      return {
        id,
        kind: definition.kind,
        operations,
        check: () => definition.check(client, config),
        close: () => definition.close(client),
      };
    },
  };
}
