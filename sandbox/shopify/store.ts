/**
 * In-memory state of the sandbox Shopify store: shop, locations, products with one variant each,
 * inventory items and levels, variant prices and metafields, the idempotency cache, and what
 * tests assert on (counters, the price-change log).
 *
 * Mutations are atomic: every quantity of an `inventorySetQuantities` call, and every variant of
 * a `productVariantsBulkUpdate` call, is validated before any is written, so one bad line leaves
 * the store untouched, as in Shopify (whose bulk update is atomic unless `allowPartialUpdates`).
 */
import { minorUnitDigits } from '../../core/money';
import { DEMO_SHOPIFY_LOCATIONS, demoProducts, demoShopifyPrice, isListedInShopify } from '../demo-catalog';
import type { ShopCatalog } from './catalog-file';
import { type ApiVersionRules } from './api-versions';
import { type FaultKind } from './faults';
import { IdempotencyCache, requestFingerprint, storedFingerprint, type IdempotencyEntry } from './idempotency';

/** Numeric id offsets: Shopify ids deliberately differ from the ERP's product ids. */
const PRODUCT_ID_OFFSET = 7_100_000_000;
const VARIANT_ID_OFFSET = 4_200_000_000;
const INVENTORY_ITEM_ID_OFFSET = 4_500_000_000;
const ADJUSTMENT_GROUP_ID_START = 9_300_000_000;

/** Shopify's bounds for any inventory quantity. */
const MAX_QUANTITY = 1_000_000_000;
const MIN_QUANTITY = -1_000_000_000;

export interface ShopRecord {
  id: string;
  name: string;
  myshopifyDomain: string;
  /** The store currency (ISO 4217): prices are in it, and `money` metafields must name it. */
  currencyCode: string;
}

export interface LocationRecord {
  id: string;
  legacyId: number;
  name: string;
  isActive: boolean;
}

export interface ProductRecord {
  id: string;
  legacyId: number;
  title: string;
}

export interface VariantRecord {
  id: string;
  legacyId: number;
  sku: string | null;
  /** Shopify names the only variant of a product "Default Title". */
  title: string;
  productId: string;
  inventoryItemId: string;
  /** Shopify's Money scalar as it returns it: a decimal string with two digits, e.g. "19.99". */
  price: string;
  /** The "was" price, as `price`; null when the variant has none. */
  compareAtPrice: string | null;
}

export interface InventoryItemRecord {
  id: string;
  legacyId: number;
  sku: string | null;
  tracked: boolean;
}

/** Inventory states Shopify tracks per level; `on_hand` is derived from the others. */
export const QUANTITY_NAMES = [
  'available',
  'on_hand',
  'committed',
  'incoming',
  'reserved',
  'damaged',
  'safety_stock',
  'quality_control',
] as const;
export type QuantityName = (typeof QUANTITY_NAMES)[number];
/** The states a level stores; `on_hand` is derived from them. */
export const STORED_QUANTITY_NAMES = ['available', 'committed', 'incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control'] as const;
export type StoredQuantityName = (typeof STORED_QUANTITY_NAMES)[number];
/** States that, with `available`, make up `on_hand` (`incoming` is not on hand). */
const ON_HAND_PARTS: readonly StoredQuantityName[] = ['available', 'committed', 'reserved', 'damaged', 'safety_stock', 'quality_control'];

export interface InventoryLevelRecord {
  /** Shopify's shape: `gid://shopify/InventoryLevel/<location id>?inventory_item_id=<item id>`. */
  id: string;
  /** The location's numeric id: levels of one item are paginated by location. */
  legacyId: number;
  inventoryItemId: string;
  locationId: string;
  quantities: Record<StoredQuantityName, number>;
}

/** Reasons Shopify accepts for inventory changes. */
export const INVENTORY_REASONS: ReadonlySet<string> = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_created',
  'movement_updated',
  'movement_received',
  'movement_canceled',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

/** `InventorySetQuantitiesInput` as graphql-js coerces it: omitted fields are absent, explicit nulls are null. */
export interface SetQuantitiesInput {
  name: string;
  reason: string;
  referenceDocumentUri?: string | null;
  quantities: QuantityInput[];
  ignoreCompareQuantity?: boolean | null;
}

export interface QuantityInput {
  inventoryItemId: string;
  locationId: string;
  quantity: number;
  changeFromQuantity?: number | null;
  compareQuantity?: number | null;
}

export interface InventoryChangeRecord {
  name: 'available' | 'on_hand';
  delta: number;
  quantityAfterChange: number;
  inventoryItemId: string;
  locationId: string;
}

export interface AdjustmentGroupRecord {
  id: string;
  reason: string;
  referenceDocumentUri: string | null;
  createdAt: string;
  changes: InventoryChangeRecord[];
}

export interface UserError {
  code: string;
  field: string[] | null;
  message: string;
}

/** Result of `inventorySetQuantities`: a group when applied, userErrors (and no group) otherwise. */
export interface SetQuantitiesPayload {
  inventoryAdjustmentGroup: AdjustmentGroupRecord | null;
  userErrors: UserError[];
}

export interface SetQuantitiesOptions {
  rules: ApiVersionRules;
  /** From `@idempotent(key:)`; undefined when the directive is absent. */
  idempotencyKey: string | undefined;
}

export interface InventorySnapshotItem {
  sku: string | null;
  inventoryItemId: string;
  locationId: string;
  available: number;
}

export interface SimulatorStats {
  /** Authenticated GraphQL requests received, faulted ones included. */
  requests: number;
  /** Requests refused with THROTTLED by the leaky bucket. */
  throttled: number;
  faultsInjected: Record<FaultKind, number>;
  /** Mutations that wrote (idempotent replays and mutations with userErrors excluded). */
  mutationsApplied: number;
  /** Duplicate requests answered from the idempotency cache. */
  replays: number;
  /** Per SKU, how many quantities were written (one per item and location per applied mutation). */
  writesBySku: Record<string, number>;
  /** Per SKU, how many times its variant's prices were written (one per variant per applied `productVariantsBulkUpdate`). */
  priceWritesBySku: Record<string, number>;
}

function emptyStats(): SimulatorStats {
  return {
    requests: 0,
    throttled: 0,
    faultsInjected: { latency: 0, serverError: 0, tooManyRequests: 0, timeout: 0, dropConnection: 0, applyThenFail: 0 },
    mutationsApplied: 0,
    replays: 0,
    writesBySku: {},
    priceWritesBySku: {},
  };
}

/** One inventory level in `StoreState`. `sku` is informational and checked on import. */
export interface PersistedLevel {
  inventoryItemId: string;
  locationId: string;
  sku: string | null;
  quantities: Record<StoredQuantityName, number>;
}

/** One variant's prices in `StoreState`. `sku` is informational and checked on import. */
export interface PersistedPrice {
  variantId: string;
  sku: string | null;
  price: string;
  compareAtPrice: string | null;
}

/** One variant metafield in `StoreState`. `sku` is informational and checked on import. */
export interface PersistedMetafield extends MetafieldRecord {
  variantId: string;
  sku: string | null;
}

/**
 * What a restart must keep (see persistence.ts). The catalog is not part of it: it is
 * deterministic from the store options. Stats are not kept either.
 */
export interface StoreState {
  /** Every inventory level, variants in id order, locations in id order. */
  levels: PersistedLevel[];
  /** The idempotency keys still within retention, oldest first. */
  idempotency: IdempotencyEntry<SetQuantitiesPayload>[];
  /** Id of the next InventoryAdjustmentGroup, so ids stay unique across restarts. */
  nextAdjustmentGroupId: number;
  /**
   * Every variant's prices, in id order. Absent in files written before prices: the variants
   * then keep their demo prices. Variants not listed keep theirs too.
   */
  prices?: PersistedPrice[];
  /**
   * Every variant metafield, variants in id order, then by namespace and key. Absent in files
   * written before metafields were kept: the variants then have none.
   */
  metafields?: PersistedMetafield[];
}

export interface SimulatorStoreOptions {
  /** Default 'omnisync demo'. */
  shopName?: string;
  /** Demo products to generate; those listed in Shopify get a product. Default 1200. */
  productCount?: number;
  /** Clock in ms (idempotency retention, adjustment timestamps, the price-change log). Default `Date.now`. */
  now?: () => number;
  /** The store currency (ISO 4217). Default 'PLN', the demo catalog's. */
  currencyCode?: string;
  /** Entries the price-change log keeps (the newest). Default PRICE_CHANGE_LOG_LIMIT. */
  priceChangeLogLimit?: number;
  /**
   * Locations beyond the demo's two (DEMO_SHOPIFY_LOCATIONS), every product stocked there at 0.
   * A state file saved before a location was added loads with that location's levels empty, as
   * a location added to a real shop starts. Default none.
   */
  extraLocations?: ReadonlyArray<{ id: string; name: string }>;
  /**
   * The products (and locations) to list instead of the demo catalogue (catalog-file.ts): every
   * product listed, one variant each. `productCount` is then ignored. Default: the demo's.
   */
  catalog?: Pick<ShopCatalog, 'products' | 'locations'>;
}

/** `ProductVariantsBulkInput` as graphql-js coerces it (the fields the simulator serves). */
export interface VariantBulkInput {
  id?: string | null;
  /** Money: a decimal string. Anything else is refused per variant (INVALID_INPUT). */
  price?: unknown;
  /** As price; explicit null clears it, absent leaves it. */
  compareAtPrice?: unknown;
  /** Metafields to create or update on the variant (by namespace and key); others are left. */
  metafields?: readonly MetafieldInput[] | null;
}

/**
 * `MetafieldInput` as graphql-js coerces it (the fields the simulator serves: no `id`). Every
 * field is optional in Shopify's schema; creating a metafield needs all four, and with no
 * metafield definitions in the simulator, so does updating one.
 */
export interface MetafieldInput {
  namespace?: string | null;
  key?: string | null;
  type?: string | null;
  value?: string | null;
}

/** A variant metafield as stored and served (`Metafield { namespace key type value }`). */
export interface MetafieldRecord {
  namespace: string;
  key: string;
  type: string;
  /** Always a string, whatever the type (a `money` value is JSON: `{"amount":"5.99","currency_code":"PLN"}`). */
  value: string;
}

/** One change of a variant's price or compare-at price, as the price-change log keeps it. */
export interface PriceChangeRecord {
  sku: string | null;
  variantId: string;
  /** The prices after the change. */
  price: string;
  compareAtPrice: string | null;
  /** When it changed: ms since the epoch, from the store's clock. */
  at: number;
}

/** Entries the price-change log keeps by default: the newest, so a long demo stays bounded. */
export const PRICE_CHANGE_LOG_LIMIT = 100_000;

/** Result of `productVariantsBulkUpdate`: the updated variants when applied, userErrors otherwise. */
export interface VariantsBulkUpdatePayload {
  product: ProductRecord | null;
  productVariants: VariantRecord[] | null;
  userErrors: UserError[];
}

export interface PriceSnapshotItem {
  sku: string | null;
  variantId: string;
  productId: string;
  price: string;
  compareAtPrice: string | null;
  /** The variant's metafields by namespace, then key; absent when it has none. */
  metafields?: MetafieldRecord[];
}

/**
 * Messages for `ProductVariantsBulkUpdateUserErrorCode`. The codes are Shopify's; Shopify documents
 * a one-line description of each, not the exact text, so these messages are the simulator's.
 */
const PRICE_ERROR_MESSAGES = {
  PRODUCT_DOES_NOT_EXIST: 'Product does not exist',
  PRODUCT_VARIANT_DOES_NOT_EXIST: 'Product variant does not exist',
  MUST_BE_FOR_THIS_PRODUCT: 'Input must be for this product',
  PRODUCT_VARIANT_ID_MISSING: 'Product variant is missing ID attribute',
  GREATER_THAN_OR_EQUAL_TO: 'Price must be greater than or equal to 0',
  INVALID_INPUT: 'Price must be a decimal number given as a string, such as "19.99"',
  DUPLICATE_VARIANT: 'Product variant appears more than once in the input',
} as const;

/** A Money input the simulator accepts: a non-negative decimal string with at most two decimals. */
const MONEY_INPUT = /^\d+(\.\d{1,2})?$/;
/** A negative decimal string: refused with GREATER_THAN_OR_EQUAL_TO, as Shopify does. */
const NEGATIVE_MONEY_INPUT = /^-\d+(\.\d+)?$/;

/** A price as the store holds it (and the state file keeps it): two decimals. */
const STORED_PRICE = /^(0|[1-9]\d*)\.\d{2}$/;

/** A valid Money input as Shopify returns it: two decimals, no leading zeros ("5" → "5.00"). */
function canonicalPrice(text: string): string {
  const [whole = '0', fraction = ''] = text.split('.');
  return `${whole.replace(/^0+(?=\d)/, '')}.${fraction.padEnd(2, '0')}`;
}

/** The user error of one Money input, or undefined when it is valid. */
function moneyInputError(value: unknown, field: string[]): UserError | undefined {
  if (typeof value === 'string' && MONEY_INPUT.test(value)) return undefined;
  if (typeof value === 'string' && NEGATIVE_MONEY_INPUT.test(value)) {
    return { code: 'GREATER_THAN_OR_EQUAL_TO', field, message: PRICE_ERROR_MESSAGES.GREATER_THAN_OR_EQUAL_TO };
  }
  return { code: 'INVALID_INPUT', field, message: PRICE_ERROR_MESSAGES.INVALID_INPUT };
}

/** Shopify's rules for a metafield namespace (3-255) and key (2-64): letters, digits, `-`, `_`. */
const METAFIELD_NAMESPACE = /^[A-Za-z0-9_-]{3,255}$/;
const METAFIELD_KEY = /^[A-Za-z0-9_-]{2,64}$/;
/** Shopify's bounds: 13 integer digits; number_decimal up to 9 decimals. */
const METAFIELD_INTEGER = /^-?\d{1,13}$/;
const METAFIELD_DECIMAL = /^-?\d{1,13}(\.\d{1,9})?$/;
/** A `money` metafield amount: a decimal string (the digits allowed are the currency's). */
const METAFIELD_MONEY_AMOUNT = /^-?\d+(\.(\d+))?$/;

/**
 * The metafield types the simulator knows, each with its value check: the reason a value is
 * refused, or undefined when it is valid. A subset of Shopify's list of types.
 */
const METAFIELD_VALUE_CHECKS: Readonly<Record<string, (value: string, shop: ShopRecord) => string | undefined>> = {
  single_line_text_field: (value) => (/[\r\n]/.test(value) ? 'Value must be a single line of text' : undefined),
  multi_line_text_field: () => undefined,
  number_integer: (value) => (METAFIELD_INTEGER.test(value) ? undefined : 'Value must be an integer, such as "12"'),
  number_decimal: (value) => (METAFIELD_DECIMAL.test(value) ? undefined : 'Value must be a decimal number, such as "12.5"'),
  boolean: (value) => (value === 'true' || value === 'false' ? undefined : 'Value must be true or false'),
  json: (value) => (parseJson(value) === undefined ? 'Value must be valid JSON' : undefined),
  money: moneyMetafieldError,
};

/** The metafield types the simulator accepts. */
export const METAFIELD_TYPES: readonly string[] = Object.keys(METAFIELD_VALUE_CHECKS);

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** A `money` value: JSON `{"amount": "5.99", "currency_code": "<the store currency>"}`. */
function moneyMetafieldError(value: string, shop: ShopRecord): string | undefined {
  const parsed = parseJson(value)?.value;
  const example = `{"amount": "5.99", "currency_code": "${shop.currencyCode}"}`;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return `Value must be a JSON object such as ${example}`;
  const { amount, currency_code: currency } = parsed as Record<string, unknown>;
  const digits = typeof amount === 'string' ? METAFIELD_MONEY_AMOUNT.exec(amount) : null;
  if (digits === null) return `Value must have an amount given as a decimal string, such as ${example}`;
  if ((digits[2] ?? '').length > minorUnitDigits(shop.currencyCode)) {
    return `Amount ${amount as string} has more decimals than ${shop.currencyCode} allows (${minorUnitDigits(shop.currencyCode)})`;
  }
  if (currency !== shop.currencyCode) {
    return `Currency code ${JSON.stringify(currency) ?? 'undefined'} must match the store currency ${shop.currencyCode}`;
  }
  return undefined;
}

/**
 * The user errors of one metafield input; `at` makes a field path under it
 * (`["variants", "0", "metafields", "1", "value"]`). BLANK for a missing field, INVALID_INPUT for
 * a wrong one: Shopify's codes; the messages are the simulator's.
 */
function metafieldInputErrors(input: MetafieldInput, shop: ShopRecord, at: (field: string) => string[]): UserError[] {
  const errors: UserError[] = [];
  const blank = (field: keyof MetafieldInput): boolean => {
    const value = input[field];
    if (value !== null && value !== undefined && value !== '') return false;
    errors.push({ code: 'BLANK', field: at(field), message: `Metafield ${field} can't be blank` });
    return true;
  };
  if (!blank('namespace') && !METAFIELD_NAMESPACE.test(input.namespace!)) {
    errors.push({ code: 'INVALID_INPUT', field: at('namespace'), message: 'Namespace must be 3-255 characters long and contain only letters, digits, hyphens and underscores' });
  }
  if (!blank('key') && !METAFIELD_KEY.test(input.key!)) {
    errors.push({ code: 'INVALID_INPUT', field: at('key'), message: 'Key must be 2-64 characters long and contain only letters, digits, hyphens and underscores' });
  }
  const check = blank('type') ? undefined : Object.hasOwn(METAFIELD_VALUE_CHECKS, input.type!) ? METAFIELD_VALUE_CHECKS[input.type!] : undefined;
  if (input.type && check === undefined) {
    errors.push({ code: 'INVALID_INPUT', field: at('type'), message: `Type '${input.type}' is not a supported metafield type (${METAFIELD_TYPES.join(', ')})` });
  }
  if (!blank('value') && check !== undefined) {
    const reason = check(input.value!, shop);
    if (reason !== undefined) errors.push({ code: 'INVALID_INPUT', field: at('value'), message: reason });
  }
  return errors;
}

/** The key of a metafield within its owner. */
function metafieldKey(namespace: string, key: string): string {
  return `${namespace}.${key}`;
}

/** Metafields by namespace, then key. */
function byNamespaceAndKey(a: MetafieldRecord, b: MetafieldRecord): number {
  return a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The newest `limit` entries of a log, in a ring: appending never moves or copies entries. */
class BoundedLog<T> {
  private readonly entries: T[] = [];
  /** Where the oldest entry sits once the ring is full. */
  private start = 0;

  constructor(private readonly limit: number) {}

  append(entry: T): void {
    if (this.limit <= 0) return;
    if (this.entries.length < this.limit) {
      this.entries.push(entry);
      return;
    }
    this.entries[this.start] = entry;
    this.start = (this.start + 1) % this.limit;
  }

  /** Oldest first. */
  list(): T[] {
    return [...this.entries.slice(this.start), ...this.entries.slice(0, this.start)];
  }
}

/** Messages Shopify documents for `InventorySetQuantitiesUserErrorCode`. */
const USER_ERROR_MESSAGES = {
  INVALID_NAME: "The quantity name must be either 'available' or 'on_hand'.",
  INVALID_REASON: 'The specified reason is invalid.',
  INVALID_REFERENCE_DOCUMENT: 'The specified reference document is invalid.',
  INVALID_INVENTORY_ITEM: 'The specified inventory item could not be found.',
  INVALID_LOCATION: 'The specified location could not be found.',
  ITEM_NOT_STOCKED_AT_LOCATION: 'The specified inventory item is not stocked at the location.',
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR: 'The combination of inventoryItemId and locationId must be unique.',
  INVALID_QUANTITY_TOO_HIGH: "The total quantity can't be higher than 1,000,000,000.",
  INVALID_QUANTITY_TOO_LOW: "The total quantity can't be lower than -1,000,000,000.",
  INVALID_QUANTITY_NEGATIVE: "The quantity can't be negative.",
  CHANGE_FROM_QUANTITY_STALE: 'The changeFromQuantity value does not match persisted value.',
  COMPARE_QUANTITY_REQUIRED: 'The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.',
  COMPARE_QUANTITY_STALE: 'The compareQuantity value does not match persisted value.',
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH: 'The same idempotency key cannot be used with different operation parameters.',
  // Shopify documents that omitting changeFromQuantity "returns an error" without naming the
  // code; INVALID and this wording are the simulator's.
  CHANGE_FROM_QUANTITY_REQUIRED:
    'The changeFromQuantity argument must be given to each quantity; pass null explicitly to opt out of the compare-and-swap check.',
} as const;

function slug(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function levelKey(inventoryItemId: string, locationId: string): string {
  return `${inventoryItemId}|${locationId}`;
}

function legacyIdOf(gid: string): number {
  return Number(gid.slice(gid.lastIndexOf('/') + 1));
}

function onHand(level: InventoryLevelRecord): number {
  let sum = 0;
  for (const part of ON_HAND_PARTS) sum += level.quantities[part];
  return sum;
}

/**
 * An adjustment group applied here. Its changes are kept compact and built anew on each read of
 * `changes`: an idempotency replay may answer with them for 24 h, and for a 250-item call the
 * levels and three number arrays cost the GC far less than 500 change records. Each quantity
 * makes two changes, as on Shopify: the state it set, then the one that moved with it.
 */
class AppliedAdjustmentGroup implements AdjustmentGroupRecord {
  // Float64Array holds any number exactly, outside the heap the GC walks.
  private readonly deltas: Float64Array;
  private readonly availableAfter: Float64Array;
  private readonly onHandAfter: Float64Array;

  constructor(
    readonly id: string,
    readonly reason: string,
    readonly referenceDocumentUri: string | null,
    readonly createdAt: string,
    /** The state the mutation set. */
    private readonly name: 'available' | 'on_hand',
    /** The levels written, one per quantity, in input order. */
    private readonly levels: readonly InventoryLevelRecord[],
  ) {
    this.deltas = new Float64Array(levels.length);
    this.availableAfter = new Float64Array(levels.length);
    this.onHandAfter = new Float64Array(levels.length);
  }

  /** Notes that the level of quantity `index` moved by `delta`, once it has. */
  recordWrite(index: number, delta: number): void {
    const level = this.levels[index]!;
    this.deltas[index] = delta;
    this.availableAfter[index] = level.quantities.available;
    this.onHandAfter[index] = onHand(level);
  }

  get changes(): InventoryChangeRecord[] {
    const changes: InventoryChangeRecord[] = [];
    for (let index = 0; index < this.levels.length; index++) {
      const { inventoryItemId, locationId } = this.levels[index]!;
      const delta = this.deltas[index]!;
      const available: InventoryChangeRecord = { name: 'available', delta, quantityAfterChange: this.availableAfter[index]!, inventoryItemId, locationId };
      const onHandChange: InventoryChangeRecord = { name: 'on_hand', delta, quantityAfterChange: this.onHandAfter[index]!, inventoryItemId, locationId };
      if (this.name === 'available') changes.push(available, onHandChange);
      else changes.push(onHandChange, available);
    }
    return changes;
  }
}

/** A payload as plain data for the state file: an applied group's changes are built on read. */
function plainPayload(payload: SetQuantitiesPayload): SetQuantitiesPayload {
  const group = payload.inventoryAdjustmentGroup;
  if (group === null) return payload;
  const { id, reason, referenceDocumentUri, createdAt, changes } = group;
  return { ...payload, inventoryAdjustmentGroup: { id, reason, referenceDocumentUri, createdAt, changes } };
}

/** A user error's field path for one quantity, e.g. `["input", "quantities", "3", "quantity"]`. */
function quantityField(index: number, field?: string): string[] {
  const path = ['input', 'quantities', String(index)];
  if (field !== undefined) path.push(field);
  return path;
}

export class SimulatorStore {
  readonly shop: ShopRecord;
  private readonly now: () => number;
  private readonly locationsById = new Map<string, LocationRecord>();
  /** The `extraLocations`: a state file may predate them. */
  private readonly extraLocationIds: ReadonlySet<string>;
  private readonly sortedLocations: LocationRecord[] = [];
  private readonly productsById = new Map<string, ProductRecord>();
  private readonly sortedVariants: VariantRecord[] = [];
  private readonly variantsById = new Map<string, VariantRecord>();
  /** Lower-cased SKU to variants (Shopify does not enforce unique SKUs). */
  private readonly variantsBySku = new Map<string, VariantRecord[]>();
  private readonly inventoryItemsById = new Map<string, InventoryItemRecord>();
  private readonly levelsByKey = new Map<string, InventoryLevelRecord>();
  /** Per inventory item, its levels sorted by location id. */
  private readonly levelsByItem = new Map<string, InventoryLevelRecord[]>();
  private readonly idempotency: IdempotencyCache<SetQuantitiesPayload>;
  /** Per variant id, its metafields by `namespace.key`. */
  private readonly metafieldsByVariant = new Map<string, Map<string, MetafieldRecord>>();
  /** Every change of a variant's price or compare-at price (the newest); not persisted. */
  private readonly priceChangeLog: BoundedLog<PriceChangeRecord>;
  private nextAdjustmentGroupId = ADJUSTMENT_GROUP_ID_START;
  private counters = emptyStats();
  private changeCount = 0;

  constructor(options: SimulatorStoreOptions = {}) {
    const shopName = options.shopName ?? 'omnisync demo';
    this.now = options.now ?? Date.now;
    this.idempotency = new IdempotencyCache(this.now);
    this.priceChangeLog = new BoundedLog(options.priceChangeLogLimit ?? PRICE_CHANGE_LOG_LIMIT);
    this.shop = {
      id: 'gid://shopify/Shop/60010001',
      name: shopName,
      myshopifyDomain: `${slug(shopName) || 'shop'}.myshopify.com`,
      currencyCode: options.currencyCode ?? 'PLN',
    };

    this.extraLocationIds = new Set((options.extraLocations ?? []).map((location) => location.id));
    for (const demo of [...(options.catalog?.locations ?? DEMO_SHOPIFY_LOCATIONS), ...(options.extraLocations ?? [])]) {
      if (this.locationsById.has(demo.id)) throw new RangeError(`extraLocations: location ${demo.id} is already a location of the shop`);
      const location: LocationRecord = { id: demo.id, legacyId: legacyIdOf(demo.id), name: demo.name, isActive: true };
      this.locationsById.set(location.id, location);
      this.sortedLocations.push(location);
    }
    this.sortedLocations.sort((a, b) => a.legacyId - b.legacyId);

    const listed =
      options.catalog === undefined
        ? demoProducts(options.productCount ?? 1200)
            .filter(isListedInShopify)
            .map((demo) => ({ erpId: demo.erpId, sku: demo.sku, name: demo.name, price: demoShopifyPrice(demo) }))
        : options.catalog.products.map((product, index) => ({ erpId: index + 1, sku: product.sku, name: product.title, price: product.price }));
    for (const demo of listed) {
      const product: ProductRecord = { id: `gid://shopify/Product/${PRODUCT_ID_OFFSET + demo.erpId}`, legacyId: PRODUCT_ID_OFFSET + demo.erpId, title: demo.name };
      const itemLegacyId = INVENTORY_ITEM_ID_OFFSET + demo.erpId;
      const item: InventoryItemRecord = { id: `gid://shopify/InventoryItem/${itemLegacyId}`, legacyId: itemLegacyId, sku: demo.sku, tracked: true };
      const variantLegacyId = VARIANT_ID_OFFSET + demo.erpId;
      const variant: VariantRecord = {
        id: `gid://shopify/ProductVariant/${variantLegacyId}`,
        legacyId: variantLegacyId,
        sku: demo.sku,
        title: 'Default Title',
        productId: product.id,
        inventoryItemId: item.id,
        price: demo.price,
        compareAtPrice: null,
      };
      this.productsById.set(product.id, product);
      this.inventoryItemsById.set(item.id, item);
      this.variantsById.set(variant.id, variant);
      this.sortedVariants.push(variant);
      const skuKey = demo.sku.toLowerCase();
      this.variantsBySku.set(skuKey, [...(this.variantsBySku.get(skuKey) ?? []), variant]);
      const levels = this.sortedLocations.map((location) => {
        const level: InventoryLevelRecord = {
          id: `gid://shopify/InventoryLevel/${location.legacyId}?inventory_item_id=${itemLegacyId}`,
          legacyId: location.legacyId,
          inventoryItemId: item.id,
          locationId: location.id,
          quantities: { available: 0, committed: 0, incoming: 0, reserved: 0, damaged: 0, safety_stock: 0, quality_control: 0 },
        };
        this.levelsByKey.set(levelKey(item.id, location.id), level);
        return level;
      });
      this.levelsByItem.set(item.id, levels);
    }
    this.sortedVariants.sort((a, b) => a.legacyId - b.legacyId);
  }

  // ---- reads used by the resolvers ----

  locations(): readonly LocationRecord[] {
    return this.sortedLocations;
  }

  location(id: string): LocationRecord | undefined {
    return this.locationsById.get(id);
  }

  product(id: string): ProductRecord | undefined {
    return this.productsById.get(id);
  }

  /** All variants, ascending by id. */
  variants(): readonly VariantRecord[] {
    return this.sortedVariants;
  }

  /** Variants whose SKU is one of `skus` (lower-cased), ascending by id. */
  variantsWithSkus(skus: ReadonlySet<string>): VariantRecord[] {
    return [...skus].flatMap((sku) => this.variantsBySku.get(sku) ?? []).sort((a, b) => a.legacyId - b.legacyId);
  }

  variant(id: string): VariantRecord | undefined {
    return this.variantsById.get(id);
  }

  /** A variant's metafield, if it has one under this namespace and key. */
  metafield(variantId: string, namespace: string, key: string): MetafieldRecord | undefined {
    return this.metafieldsByVariant.get(variantId)?.get(metafieldKey(namespace, key));
  }

  /** A variant's metafields by namespace, then key (copies). */
  metafields(variantId: string): MetafieldRecord[] {
    return [...(this.metafieldsByVariant.get(variantId)?.values() ?? [])].map((metafield) => ({ ...metafield })).sort(byNamespaceAndKey);
  }

  inventoryItem(id: string): InventoryItemRecord | undefined {
    return this.inventoryItemsById.get(id);
  }

  /** Levels of one item, ascending by location id. */
  inventoryLevels(inventoryItemId: string): readonly InventoryLevelRecord[] {
    return this.levelsByItem.get(inventoryItemId) ?? [];
  }

  /**
   * The level of an item at a location, if stocked there. Looked up through the item's own few
   * levels by the catalog's id strings, which the levels share, rather than through a map keyed
   * by a joined id string: mutations do this for every quantity they carry.
   */
  private levelAt(item: InventoryItemRecord, location: LocationRecord): InventoryLevelRecord | undefined {
    const levels = this.levelsByItem.get(item.id);
    if (levels === undefined) return undefined;
    for (const level of levels) if (level.locationId === location.id) return level;
    return undefined;
  }

  quantity(level: InventoryLevelRecord, name: QuantityName): number {
    return name === 'on_hand' ? onHand(level) : level.quantities[name];
  }

  // ---- sandbox-side access (tests, admin endpoints); never counted as API writes ----

  /** Every level's available quantity, variants in id order, locations in id order. */
  inventorySnapshot(): InventorySnapshotItem[] {
    return this.sortedVariants.flatMap((variant) =>
      this.inventoryLevels(variant.inventoryItemId).map((level) => ({
        sku: variant.sku,
        inventoryItemId: level.inventoryItemId,
        locationId: level.locationId,
        available: level.quantities.available,
      })),
    );
  }

  /**
   * Every variant's prices, in id order, with its metafields when it has any: what
   * `productVariantsBulkUpdate` wrote, read back.
   */
  priceSnapshot(): PriceSnapshotItem[] {
    return this.sortedVariants.map((variant) => {
      const item: PriceSnapshotItem = {
        sku: variant.sku,
        variantId: variant.id,
        productId: variant.productId,
        price: variant.price,
        compareAtPrice: variant.compareAtPrice,
      };
      const metafields = this.metafields(variant.id);
      if (metafields.length > 0) item.metafields = metafields;
      return item;
    });
  }

  /** The metafield of the variant with this SKU (case-insensitive), if any. */
  metafieldOf(sku: string, namespace: string, key: string): MetafieldRecord | undefined {
    const variant = this.variantBySku(sku);
    return variant ? this.metafield(variant.id, namespace, key) : undefined;
  }

  /**
   * The changes of variants' prices or compare-at prices that `productVariantsBulkUpdate`
   * applied, oldest first: of every variant, or of the variant(s) with this SKU
   * (case-insensitive). A write that leaves both prices as they were is not a change. Only the
   * newest `priceChangeLogLimit` changes are kept, and none across a restart.
   */
  priceChanges(sku?: string): PriceChangeRecord[] {
    const all = this.priceChangeLog.list();
    if (sku === undefined) return all;
    const wanted = sku.toLowerCase();
    return all.filter((change) => change.sku?.toLowerCase() === wanted);
  }

  /** The prices of the variant with this SKU (case-insensitive), if any. */
  pricesOf(sku: string): { price: string; compareAtPrice: string | null } | undefined {
    const variant = this.variantBySku(sku);
    return variant ? { price: variant.price, compareAtPrice: variant.compareAtPrice } : undefined;
  }

  variantBySku(sku: string): VariantRecord | undefined {
    return this.variantsBySku.get(sku.toLowerCase())?.[0];
  }

  availableOf(sku: string, locationId: string): number | undefined {
    const variant = this.variantBySku(sku);
    return variant ? this.levelsByKey.get(levelKey(variant.inventoryItemId, locationId))?.quantities.available : undefined;
  }

  /** Changes stock as if it happened inside Shopify (a sale, a manual edit): not an API write. */
  setAvailable(sku: string, locationId: string, available: number): void {
    const variant = this.variantBySku(sku);
    const level = variant ? this.levelsByKey.get(levelKey(variant.inventoryItemId, locationId)) : undefined;
    if (!level) throw new RangeError(`no inventory level for SKU ${sku} at ${locationId}`);
    level.quantities.available = available;
    this.changeCount++;
  }

  // ---- persistence (persistence.ts) ----

  /** Grows on every change of what `exportState` returns (not on stats); a saver compares it. */
  get revision(): number {
    return this.changeCount;
  }

  exportState(): StoreState {
    return {
      levels: this.sortedVariants.flatMap((variant) =>
        this.inventoryLevels(variant.inventoryItemId).map((level) => ({
          inventoryItemId: level.inventoryItemId,
          locationId: level.locationId,
          sku: variant.sku,
          quantities: { ...level.quantities },
        })),
      ),
      idempotency: this.idempotency.export().map((entry) => ({ ...entry, result: plainPayload(entry.result) })),
      nextAdjustmentGroupId: this.nextAdjustmentGroupId,
      prices: this.sortedVariants.map((variant) => ({ variantId: variant.id, sku: variant.sku, price: variant.price, compareAtPrice: variant.compareAtPrice })),
      metafields: this.sortedVariants.flatMap((variant) =>
        this.metafields(variant.id).map((metafield) => ({ variantId: variant.id, sku: variant.sku, ...metafield })),
      ),
    };
  }

  /**
   * Replaces quantities, idempotency keys and the adjustment group counter with `state`. The state
   * must describe exactly this store's levels; otherwise it throws an Error that says which
   * level is wrong, and the store is unchanged.
   */
  importState(state: StoreState): void {
    const seen = new Set<string>();
    state.levels.forEach((persisted, index) => {
      const where = `levels[${index}] (inventoryItemId ${persisted.inventoryItemId}, locationId ${persisted.locationId})`;
      const item = this.inventoryItemsById.get(persisted.inventoryItemId);
      if (!item) throw new Error(`${where}: the catalog has no such inventory item`);
      if (!this.locationsById.has(persisted.locationId)) throw new Error(`${where}: the shop has no such location`);
      const key = levelKey(persisted.inventoryItemId, persisted.locationId);
      if (!this.levelsByKey.has(key)) throw new Error(`${where}: the item is not stocked at that location`);
      if (seen.has(key)) throw new Error(`${where}: the level appears more than once`);
      seen.add(key);
      if (persisted.sku !== item.sku) {
        throw new Error(`${where}: sku ${JSON.stringify(persisted.sku)} differs from the catalog's ${JSON.stringify(item.sku)}`);
      }
    });
    // An extra location the file has no level of at all was added after it was saved: it starts empty.
    const savedLocations = new Set(state.levels.map((persisted) => persisted.locationId));
    const addedSinceSaved = (locationId: string) => this.extraLocationIds.has(locationId) && !savedLocations.has(locationId);
    const missing = [...this.levelsByKey.values()].filter((level) => !seen.has(levelKey(level.inventoryItemId, level.locationId)) && !addedSinceSaved(level.locationId));
    if (missing.length > 0) {
      const first = missing[0]!;
      throw new Error(
        `${missing.length} of the catalog's ${this.levelsByKey.size} inventory levels are missing ` +
          `(first: inventoryItemId ${first.inventoryItemId}, locationId ${first.locationId})`,
      );
    }
    const keys = new Set<string>();
    let highestGroupId = ADJUSTMENT_GROUP_ID_START - 1;
    state.idempotency.forEach((entry, index) => {
      if (keys.has(entry.key)) throw new Error(`idempotency[${index}]: key ${JSON.stringify(entry.key)} appears more than once`);
      keys.add(entry.key);
      const groupId = entry.result.inventoryAdjustmentGroup?.id;
      if (groupId !== undefined) highestGroupId = Math.max(highestGroupId, legacyIdOf(groupId));
    });
    if (!(state.nextAdjustmentGroupId > highestGroupId)) {
      throw new Error(`nextAdjustmentGroupId ${state.nextAdjustmentGroupId} is not above the stored adjustment group id ${highestGroupId}`);
    }
    const pricedVariants = new Set<string>();
    (state.prices ?? []).forEach((persisted, index) => {
      const where = `prices[${index}] (variantId ${persisted.variantId})`;
      const variant = this.variantsById.get(persisted.variantId);
      if (!variant) throw new Error(`${where}: the catalog has no such variant`);
      if (pricedVariants.has(variant.id)) throw new Error(`${where}: the variant appears more than once`);
      pricedVariants.add(variant.id);
      if (persisted.sku !== variant.sku) {
        throw new Error(`${where}: sku ${JSON.stringify(persisted.sku)} differs from the catalog's ${JSON.stringify(variant.sku)}`);
      }
      for (const [field, value] of [['price', persisted.price], ['compareAtPrice', persisted.compareAtPrice]] as const) {
        if (value !== null && !STORED_PRICE.test(value)) throw new Error(`${where}: ${field} ${JSON.stringify(value)} is not a price such as "19.99"`);
      }
    });
    const storedMetafields = new Set<string>();
    (state.metafields ?? []).forEach((persisted, index) => {
      const where = `metafields[${index}] (variantId ${persisted.variantId}, ${persisted.namespace}.${persisted.key})`;
      const variant = this.variantsById.get(persisted.variantId);
      if (!variant) throw new Error(`${where}: the catalog has no such variant`);
      if (persisted.sku !== variant.sku) {
        throw new Error(`${where}: sku ${JSON.stringify(persisted.sku)} differs from the catalog's ${JSON.stringify(variant.sku)}`);
      }
      const key = `${variant.id}|${metafieldKey(persisted.namespace, persisted.key)}`;
      if (storedMetafields.has(key)) throw new Error(`${where}: the metafield appears more than once`);
      storedMetafields.add(key);
      const [error] = metafieldInputErrors(persisted, this.shop, (field) => [field]);
      if (error) throw new Error(`${where}: ${error.field?.join('.') ?? ''}: ${error.message}`);
    });

    for (const persisted of state.levels) {
      this.levelsByKey.get(levelKey(persisted.inventoryItemId, persisted.locationId))!.quantities = { ...persisted.quantities };
    }
    this.idempotency.restore(state.idempotency.map((entry) => ({ ...entry, fingerprint: storedFingerprint(entry.fingerprint) })));
    this.nextAdjustmentGroupId = state.nextAdjustmentGroupId;
    for (const persisted of state.prices ?? []) {
      const variant = this.variantsById.get(persisted.variantId)!;
      variant.price = persisted.price;
      variant.compareAtPrice = persisted.compareAtPrice;
    }
    this.metafieldsByVariant.clear();
    for (const { variantId, namespace, key, type, value } of state.metafields ?? []) {
      this.setMetafield(variantId, { namespace, key, type, value });
    }
  }

  // ---- stats ----

  stats(): SimulatorStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  recordRequest(): void {
    this.counters.requests++;
  }

  recordThrottled(): void {
    this.counters.throttled++;
  }

  recordFault(kind: FaultKind): void {
    this.counters.faultsInjected[kind]++;
  }

  // ---- inventorySetQuantities ----

  /**
   * Applies `inventorySetQuantities` atomically, deduplicated by idempotency key. A duplicate
   * (same key, same input) gets the stored payload, including stored userErrors, and writes
   * nothing; the same key with another input gets IDEMPOTENCY_KEY_PARAMETER_MISMATCH.
   */
  setInventoryQuantities(input: SetQuantitiesInput, options: SetQuantitiesOptions): SetQuantitiesPayload {
    const key = options.idempotencyKey;
    const idempotent = key === undefined ? undefined : { key, fingerprint: requestFingerprint({ mutation: 'inventorySetQuantities', input }) };
    if (idempotent) {
      const previous = this.idempotency.lookup(idempotent.key, idempotent.fingerprint);
      if (previous.kind === 'replay') {
        this.counters.replays++;
        return previous.result;
      }
      if (previous.kind === 'parameter-mismatch') {
        const code = 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH';
        return { inventoryAdjustmentGroup: null, userErrors: [{ code, field: null, message: USER_ERROR_MESSAGES[code] }] };
      }
    }
    const { userErrors, levels } = this.validateSetQuantities(input, options.rules);
    const payload: SetQuantitiesPayload =
      userErrors.length > 0
        ? { inventoryAdjustmentGroup: null, userErrors }
        : { inventoryAdjustmentGroup: this.applySetQuantities(input, levels), userErrors: [] };
    if (idempotent) {
      this.idempotency.remember(idempotent.key, idempotent.fingerprint, payload);
      this.changeCount++;
    }
    return payload;
  }

  /**
   * Checks every quantity; returns the user errors and, when there are none, the level each
   * quantity sets (in input order), so that applying needs no second lookup.
   */
  private validateSetQuantities(input: SetQuantitiesInput, rules: ApiVersionRules): { userErrors: UserError[]; levels: InventoryLevelRecord[] } {
    const errors: UserError[] = [];
    const fail = (code: keyof typeof USER_ERROR_MESSAGES, field: string[]): void => {
      // The "required" variant reports Shopify's generic INVALID code.
      const reported = code === 'CHANGE_FROM_QUANTITY_REQUIRED' ? 'INVALID' : code;
      errors.push({ code: reported, field, message: USER_ERROR_MESSAGES[code] });
    };
    if (input.name !== 'available' && input.name !== 'on_hand') fail('INVALID_NAME', ['input', 'name']);
    if (!INVENTORY_REASONS.has(input.reason)) fail('INVALID_REASON', ['input', 'reason']);
    if (input.referenceDocumentUri !== null && input.referenceDocumentUri !== undefined && !URL.canParse(input.referenceDocumentUri)) {
      fail('INVALID_REFERENCE_DOCUMENT', ['input', 'referenceDocumentUri']);
    }
    const name = input.name === 'on_hand' ? 'on_hand' : 'available';
    const compareRequired = !rules.changeFromQuantityRequired && input.ignoreCompareQuantity !== true;
    const levels: InventoryLevelRecord[] = [];
    /** Levels (or, for unknown ones, their keys) already named by an earlier line. */
    const seen = new Set<InventoryLevelRecord | string>();
    // A plain loop that builds an error's field path only when it fails: this runs for every
    // quantity of every mutation.
    for (let index = 0; index < input.quantities.length; index++) {
      const line = input.quantities[index]!;
      const { inventoryItemId, locationId, quantity, changeFromQuantity, compareQuantity } = line;
      const item = this.inventoryItemsById.get(inventoryItemId);
      const location = this.locationsById.get(locationId);
      if (!item) fail('INVALID_INVENTORY_ITEM', quantityField(index, 'inventoryItemId'));
      if (!location) fail('INVALID_LOCATION', quantityField(index, 'locationId'));
      const level = item && location ? this.levelAt(item, location) : undefined;
      const pair = level ?? levelKey(inventoryItemId, locationId);
      if (seen.has(pair)) fail('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', quantityField(index));
      seen.add(pair);
      if (quantity > MAX_QUANTITY) fail('INVALID_QUANTITY_TOO_HIGH', quantityField(index, 'quantity'));
      else if (quantity < MIN_QUANTITY) fail('INVALID_QUANTITY_TOO_LOW', quantityField(index, 'quantity'));
      // Shopify allows negative available stock (oversold), not negative on-hand stock.
      else if (name === 'on_hand' && quantity < 0) fail('INVALID_QUANTITY_NEGATIVE', quantityField(index, 'quantity'));

      if (rules.changeFromQuantityRequired && changeFromQuantity === undefined) fail('CHANGE_FROM_QUANTITY_REQUIRED', quantityField(index, 'changeFromQuantity'));
      const compareApplies = compareRequired && changeFromQuantity === undefined;
      if (compareApplies && (compareQuantity === null || compareQuantity === undefined)) fail('COMPARE_QUANTITY_REQUIRED', quantityField(index, 'compareQuantity'));
      if (!item || !location) continue;
      if (!level) {
        fail('ITEM_NOT_STOCKED_AT_LOCATION', quantityField(index, 'locationId'));
        continue;
      }
      levels.push(level);
      const checksPersisted = typeof changeFromQuantity === 'number' || (compareApplies && typeof compareQuantity === 'number');
      if (!checksPersisted) continue;
      const persisted = this.quantity(level, name);
      if (typeof changeFromQuantity === 'number' && changeFromQuantity !== persisted) {
        fail('CHANGE_FROM_QUANTITY_STALE', quantityField(index, 'changeFromQuantity'));
      }
      if (compareApplies && typeof compareQuantity === 'number' && compareQuantity !== persisted) {
        fail('COMPARE_QUANTITY_STALE', quantityField(index, 'compareQuantity'));
      }
    }
    return { userErrors: errors, levels };
  }

  /** Writes every line to its level; called only after validation found nothing wrong. */
  private applySetQuantities(input: SetQuantitiesInput, levels: readonly InventoryLevelRecord[]): AdjustmentGroupRecord {
    const name = input.name === 'on_hand' ? 'on_hand' : 'available';
    const group = new AppliedAdjustmentGroup(
      `gid://shopify/InventoryAdjustmentGroup/${this.nextAdjustmentGroupId++}`,
      input.reason,
      input.referenceDocumentUri ?? null,
      new Date(this.now()).toISOString(),
      name,
      levels,
    );
    const { writesBySku } = this.counters;
    for (let index = 0; index < levels.length; index++) {
      const level = levels[index]!;
      const delta = input.quantities[index]!.quantity - this.quantity(level, name);
      // Setting either state moves the other by the same delta (on_hand = available + held states).
      level.quantities.available += delta;
      group.recordWrite(index, delta);
      const sku = this.inventoryItemsById.get(level.inventoryItemId)?.sku;
      if (sku !== null && sku !== undefined) writesBySku[sku] = (writesBySku[sku] ?? 0) + 1;
    }
    this.counters.mutationsApplied++;
    this.changeCount++;
    return group;
  }

  // ---- productVariantsBulkUpdate (prices) ----

  /**
   * Applies `productVariantsBulkUpdate` to the variants' `price`, `compareAtPrice` and
   * `metafields`, atomically: every variant is validated first, and one invalid variant fails the
   * call with userErrors pointing at it (`["variants", "<index>", "price"]`,
   * `["variants", "<index>", "metafields", "<index>", "value"]`) and writes nothing. A
   * compareAtPrice not above the price is accepted, as on Shopify (the storefront then shows no
   * reduction). A metafield is created, or replaced when the variant has one with its namespace
   * and key; the variant's other metafields are left. Every change of a price or compare-at price
   * goes into the price-change log.
   */
  updateVariantPrices(productId: string, variants: readonly VariantBulkInput[]): VariantsBulkUpdatePayload {
    const product = this.productsById.get(productId);
    if (!product) {
      const code = 'PRODUCT_DOES_NOT_EXIST';
      return { product: null, productVariants: null, userErrors: [{ code, field: ['productId'], message: PRICE_ERROR_MESSAGES[code] }] };
    }
    const errors: UserError[] = [];
    const targets: VariantRecord[] = [];
    const seen = new Set<string>();
    variants.forEach((input, index) => {
      const at = (field?: string): string[] => (field === undefined ? ['variants', String(index)] : ['variants', String(index), field]);
      const fail = (code: keyof typeof PRICE_ERROR_MESSAGES, field: string[]): void => {
        // A repeated variant is the simulator's own check, under Shopify's generic code.
        errors.push({ code: code === 'DUPLICATE_VARIANT' ? 'INVALID_INPUT' : code, field, message: PRICE_ERROR_MESSAGES[code] });
      };
      const variant = typeof input.id === 'string' ? this.variantsById.get(input.id) : undefined;
      if (input.id === null || input.id === undefined) fail('PRODUCT_VARIANT_ID_MISSING', at('id'));
      else if (!variant) fail('PRODUCT_VARIANT_DOES_NOT_EXIST', at('id'));
      else if (variant.productId !== product.id) fail('MUST_BE_FOR_THIS_PRODUCT', at('id'));
      else if (seen.has(variant.id)) fail('DUPLICATE_VARIANT', at('id'));
      if (variant) seen.add(variant.id);
      if (input.price !== undefined) {
        // An explicit null price is refused like a malformed one: a variant always has a price.
        const error = moneyInputError(input.price, at('price'));
        if (error) errors.push(error);
      }
      if (input.compareAtPrice !== undefined && input.compareAtPrice !== null) {
        const error = moneyInputError(input.compareAtPrice, at('compareAtPrice'));
        if (error) errors.push(error);
      }
      const metafieldKeys = new Set<string>();
      (input.metafields ?? []).forEach((metafield, position) => {
        const metafieldAt = (field: string): string[] => ['variants', String(index), 'metafields', String(position), field];
        errors.push(...metafieldInputErrors(metafield, this.shop, metafieldAt));
        if (!metafield.namespace || !metafield.key) return;
        // The simulator's own check, under Shopify's generic code: one metafield set twice in one variant.
        const key = metafieldKey(metafield.namespace, metafield.key);
        if (metafieldKeys.has(key)) errors.push({ code: 'INVALID_INPUT', field: metafieldAt('key'), message: 'Metafield appears more than once for the variant' });
        metafieldKeys.add(key);
      });
      if (variant) targets.push(variant);
    });
    if (errors.length > 0) return { product, productVariants: null, userErrors: errors };

    const { priceWritesBySku } = this.counters;
    const at = this.now();
    targets.forEach((variant, index) => {
      const input = variants[index]!;
      const before = { price: variant.price, compareAtPrice: variant.compareAtPrice };
      if (typeof input.price === 'string') variant.price = canonicalPrice(input.price);
      if (input.compareAtPrice === null) variant.compareAtPrice = null;
      else if (typeof input.compareAtPrice === 'string') variant.compareAtPrice = canonicalPrice(input.compareAtPrice);
      // Validated above: every field is set.
      for (const { namespace, key, type, value } of input.metafields ?? []) this.setMetafield(variant.id, { namespace: namespace!, key: key!, type: type!, value: value! });
      if (variant.price !== before.price || variant.compareAtPrice !== before.compareAtPrice) {
        this.priceChangeLog.append({ sku: variant.sku, variantId: variant.id, price: variant.price, compareAtPrice: variant.compareAtPrice, at });
      }
      if (variant.sku !== null) priceWritesBySku[variant.sku] = (priceWritesBySku[variant.sku] ?? 0) + 1;
    });
    this.counters.mutationsApplied++;
    this.changeCount++;
    return { product, productVariants: targets, userErrors: [] };
  }

  private setMetafield(variantId: string, metafield: MetafieldRecord): void {
    let metafields = this.metafieldsByVariant.get(variantId);
    if (metafields === undefined) this.metafieldsByVariant.set(variantId, (metafields = new Map()));
    metafields.set(metafieldKey(metafield.namespace, metafield.key), metafield);
  }
}
