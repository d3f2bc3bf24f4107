/**
 * The state file that lets the simulator survive a restart (`stateFile` option), as a real shop
 * keeps its state: inventory quantities of every level (all stored states; `on_hand` is derived),
 * every variant's prices and metafields, and the idempotency keys still within 24 h, plus the
 * adjustment group counter. Files written before prices were kept have no `prices` and still load
 * (the variants keep their demo prices); files written before metafields were kept have no
 * `metafields` and still load (the variants have none). The price-change log is not kept.
 *
 * The catalog (shop, locations, products, variants, inventory items) is deterministic from the
 * simulator options and not stored; loading checks that the file describes exactly the levels of
 * that catalog. A file that is not valid JSON, has another version or does not match fails the
 * start with a `StateFileError` naming the file: it is never silently replaced.
 *
 * Saving is atomic (write a temporary file next to it, fsync, rename), at most every 2 s while
 * something changed, and once more on close.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { z } from 'zod';
import { STORED_QUANTITY_NAMES, type SimulatorStore, type StoredQuantityName } from './store';

export const STATE_FILE_VERSION = 1;
/** How often a changed store is saved. */
export const STATE_SAVE_INTERVAL_MS = 2000;

/** A state file that cannot be read, parsed, matched to the catalog, or written. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';

  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Shopify simulator state file ${file}: ${detail}`, options);
  }
}

const quantity = z.int();
const quantitiesSchema = z.strictObject(
  Object.fromEntries(STORED_QUANTITY_NAMES.map((name) => [name, quantity])) as Record<StoredQuantityName, typeof quantity>,
);

const levelSchema = z.strictObject({
  inventoryItemId: z.string(),
  locationId: z.string(),
  sku: z.string().nullable(),
  quantities: quantitiesSchema,
});

const changeSchema = z.strictObject({
  name: z.enum(['available', 'on_hand']),
  delta: z.int(),
  quantityAfterChange: z.int(),
  inventoryItemId: z.string(),
  locationId: z.string(),
});

const payloadSchema = z.strictObject({
  inventoryAdjustmentGroup: z
    .strictObject({
      id: z.string().regex(/^gid:\/\/shopify\/InventoryAdjustmentGroup\/\d+$/),
      reason: z.string(),
      referenceDocumentUri: z.string().nullable(),
      createdAt: z.string(),
      changes: z.array(changeSchema),
    })
    .nullable(),
  userErrors: z.array(z.strictObject({ code: z.string(), field: z.array(z.string()).nullable(), message: z.string() })),
});

const priceText = z.string().regex(/^(0|[1-9]\d*)\.\d{2}$/, 'expected a price such as "19.99"');

const priceSchema = z.strictObject({
  variantId: z.string(),
  sku: z.string().nullable(),
  price: priceText,
  compareAtPrice: priceText.nullable(),
});

const metafieldSchema = z.strictObject({
  variantId: z.string(),
  sku: z.string().nullable(),
  namespace: z.string(),
  key: z.string(),
  type: z.string(),
  value: z.string(),
});

const idempotencyEntrySchema = z.strictObject({
  key: z.string().min(1),
  fingerprint: z.string(),
  storedAt: z.int().nonnegative(),
  result: payloadSchema,
});

const stateFileSchema = z.strictObject({
  version: z.literal(STATE_FILE_VERSION),
  savedAt: z.iso.datetime(),
  /** The productCount the catalog was built from; a mismatch gets a clearer error than a level check. */
  productCount: z.int().nonnegative(),
  /** The catalogue file's SHA-256 when the shop was built from one (catalog-file.ts); absent for the demo's. */
  catalogDigest: z.string().optional(),
  nextAdjustmentGroupId: z.int().positive(),
  levels: z.array(levelSchema),
  idempotency: z.array(idempotencyEntrySchema),
  /** Optional: files written before prices were kept lack it. */
  prices: z.array(priceSchema).optional(),
  /** Optional: files written before metafields were kept lack it. */
  metafields: z.array(metafieldSchema).optional(),
});

type StateFile = z.infer<typeof stateFileSchema>;

/** At most this many zod issues go into the message. */
const MAX_ISSUES = 5;

function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, MAX_ISSUES).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads `file` into `store`. Returns false when the file does not exist (a first start); throws
 * `StateFileError` for anything else that prevents loading, leaving the store unchanged.
 */
export async function loadStateFile(file: string, store: SimulatorStore, productCount: number, catalogDigest?: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StateFileError(file, `cannot be read (${messageOf(error)})`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(file, `is not valid JSON (${messageOf(error)})`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('version' in raw)) {
    throw new StateFileError(file, `is not a state file: expected a JSON object with "version": ${STATE_FILE_VERSION}`);
  }
  if (raw.version !== STATE_FILE_VERSION) {
    throw new StateFileError(file, `has version ${JSON.stringify(raw.version)}; this simulator reads version ${STATE_FILE_VERSION} only`);
  }
  const parsed = stateFileSchema.safeParse(raw);
  if (!parsed.success) throw new StateFileError(file, `does not match the version ${STATE_FILE_VERSION} format: ${describeIssues(parsed.error)}`);
  const state = parsed.data;
  if (state.catalogDigest !== catalogDigest) {
    throw new StateFileError(
      file,
      state.catalogDigest === undefined
        ? 'was written for the demo catalogue, but the simulator was started with a catalogue file; delete the file to start the shop from the catalogue'
        : catalogDigest === undefined
          ? 'was written for a catalogue file, but the simulator was started with the demo catalogue; delete the file or start it with that catalogue'
          : 'was written for another version of the catalogue file; delete the file to start the shop from the catalogue as it is now',
    );
  }
  if (catalogDigest === undefined && state.productCount !== productCount) {
    throw new StateFileError(
      file,
      `was written for productCount ${state.productCount}, but the simulator was started with productCount ${productCount}; ` +
        'start it with the same productCount or delete the file',
    );
  }
  try {
    store.importState(state);
  } catch (error) {
    throw new StateFileError(file, `does not match the catalog: ${messageOf(error)}`, { cause: error });
  }
  return true;
}

/** Pretty enough to read and diff: one level, price, metafield or idempotency entry per line. */
function serialize(state: StateFile): string {
  const list = (items: readonly unknown[]): string =>
    items.length === 0 ? '[]' : `[\n${items.map((item) => `    ${JSON.stringify(item)}`).join(',\n')}\n  ]`;
  const { levels, idempotency, prices, metafields, ...header } = state;
  const headerLines = Object.entries(header).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  const priceLines = prices === undefined ? [] : [`  "prices": ${list(prices)}`];
  const metafieldLines = metafields === undefined ? [] : [`  "metafields": ${list(metafields)}`];
  return `{\n${[...headerLines, `  "levels": ${list(levels)}`, ...priceLines, ...metafieldLines, `  "idempotency": ${list(idempotency)}`].join(',\n')}\n}\n`;
}

let temporaryFileCounter = 0;

/** Writes `text` to a temporary file in the same directory, fsyncs it and renames it over `file`. */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${++temporaryFileCounter}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new StateFileError(file, `could not be saved (${messageOf(error)})`, { cause: error });
  }
}

/** Saves the store to its state file when it changed: on a timer and on close. */
export class StateSaver {
  private savedRevision: number;
  private saving: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastLoggedError: string | undefined;

  constructor(
    private readonly file: string,
    private readonly store: SimulatorStore,
    private readonly productCount: number,
    /** The catalogue file's digest when the shop was built from one. */
    private readonly catalogDigest?: string,
  ) {
    // Whatever was just loaded (or the fresh seed) counts as saved.
    this.savedRevision = store.revision;
  }

  get dirty(): boolean {
    return this.store.revision !== this.savedRevision;
  }

  /** Starts the periodic save; the timer is unref'd, so it never keeps the process alive. */
  start(intervalMs = STATE_SAVE_INTERVAL_MS): void {
    this.timer ??= setInterval(() => {
      if (this.saving) return; // a slow save is still running; the next tick catches up
      this.save().then(
        () => {
          this.lastLoggedError = undefined;
        },
        (error: unknown) => {
          const message = messageOf(error);
          if (message !== this.lastLoggedError) process.stderr.write(`shopify simulator: ${message}\n`);
          this.lastLoggedError = message;
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Saves now if anything changed since the last save; waits for a save already running first. */
  async save(): Promise<void> {
    while (this.saving) await this.saving.catch(() => undefined);
    if (!this.dirty) return;
    const revision = this.store.revision;
    const state: StateFile = {
      version: STATE_FILE_VERSION,
      savedAt: new Date().toISOString(),
      productCount: this.productCount,
      ...(this.catalogDigest === undefined ? {} : { catalogDigest: this.catalogDigest }),
      ...this.store.exportState(),
    };
    this.saving = writeFileAtomically(this.file, serialize(state))
      .then(() => {
        this.savedRevision = revision;
      })
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }

  /** Stops the timer and saves a last time; rejects with StateFileError when that save fails. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
  }
}
