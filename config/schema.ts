/**
 * The omnisync config file (omnisync.yaml): connectors, syncs, Temporal, state store, sandbox.
 * Strict everywhere: an unknown key is an error, because a misspelt option that is silently
 * ignored is worse than one that stops the deploy.
 */
import { z } from 'zod';
import { cronProblem } from './cron';
import { containsReference } from './references';
import { ENTITY_NAMES, type EntityName } from '../core/entities';

/** A 5-field cron expression or macro, checked completely as Temporal will read it (config/cron.ts). */
const Cron = z.string().superRefine((value, ctx) => {
  const problem = cronProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
});

export const ScheduleEntry = z.strictObject({
  cron: Cron,
  /** Start paused (visible in the UI, not running). Default false. */
  paused: z.boolean().default(false),
});

export const SyncConfig = z.strictObject({
  /** What the sync copies (core/entities): stock or price. */
  entity: z.enum(ENTITY_NAMES as [EntityName, ...EntityName[]]),
  /** Connector id that reads the data (capability `<entity>.read`). */
  source: z.string().min(1),
  /** Connector ids that receive it (capability `<entity>.write`). */
  targets: z.array(z.string().min(1)).min(1),
  /** Mapping file, relative to the config file's folder (e.g. mappings/stock-erp-to-shopify.yaml); its `entity` must be the sync's. */
  mapping: z.string().min(1),
  /** SKUs read per page. Default 1000. */
  pageSize: z.number().int().min(1).max(20_000).default(1000),
  /** Safety net against a source that never ends. Default 10,000 pages per run. */
  maxPages: z.number().int().min(1).default(10_000),
  /**
   * Pages one workflow execution handles before it continues as new (keeps history small).
   * Default 400 (≈ 4,000 events); the server's own suggestion ends an execution earlier.
   */
  pagesPerExecution: z.number().int().min(1).max(2_000).default(400),
  /**
   * Minutes an item a target refused as unmappable (e.g. a SKU the shop does not list) stays
   * parked in the quarantine before it is sent again. Resolving it sends it at the next run.
   * Default 60.
   */
  unmappableRecheckMinutes: z.number().min(0).max(7 * 24 * 60).default(60),
  schedule: z
    .strictObject({
      /** Incremental run: rows modified since the stored cursor. */
      delta: ScheduleEntry.optional(),
      /** Full run: every SKU compared with the last-pushed snapshot. */
      full: ScheduleEntry.optional(),
    })
    .default({}),
});
export type SyncConfig = z.infer<typeof SyncConfig>;

export const ConnectorEntry = z.strictObject({
  kind: z.string().min(1),
  /** Validated by the connector kind's own schema. */
  config: z.unknown(),
});

/** A payload key's id, as payloads carry it in their `encryption-key-id` metadata. */
const PAYLOAD_KEY_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const PAYLOAD_KEY_ID_MESSAGE = 'expected a key id of letters, digits, "_" and "-" (e.g. 2026-01)';

/** Bytes of an AES-256 key. */
export const PAYLOAD_KEY_BYTES = 32;

/**
 * A payload key as written (resolved): 64 hex digits, or standard base64 of 32 bytes (44
 * characters with its "=", as `openssl rand -base64 32` prints it). Undefined when it is neither.
 */
export function decodePayloadKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === PAYLOAD_KEY_BYTES) return key;
  }
  return undefined;
}

/** Why a payload key as written is not a 32-byte key; never quotes the key. */
export function payloadKeyProblem(text: string): string | undefined {
  if (decodePayloadKey(text) !== undefined) return undefined;
  const trimmed = text.trim();
  const what = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? `it is ${trimmed.length} hex digits (${trimmed.length / 2} bytes)`
    : /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)
      ? `it is base64 of ${Buffer.from(trimmed, 'base64').length} bytes`
      : `it is ${trimmed.length} characters, neither hex nor base64`;
  return `expected a ${PAYLOAD_KEY_BYTES}-byte key (AES-256), written as 64 hex digits or as 44 base64 characters (e.g. from \`openssl rand -base64 32\`); ${what}`;
}

export const TemporalConfig = z.strictObject({
  /** host:port of the Temporal frontend. Default 127.0.0.1:7233. */
  address: z.string().min(1).default('127.0.0.1:7233'),
  namespace: z.string().min(1).default('default'),
  /** Task queue of the hub's workflows and hub activities. Default "omnisync". */
  taskQueue: z.string().min(1).default('omnisync'),
  /** Temporal Cloud API key (secret: by reference only). Turns TLS on. */
  apiKey: z.string().optional(),
  /**
   * TLS to the frontend (PEM files, relative to the config file). Present (even empty): TLS,
   * the server checked against the system's CAs or `serverRootCaCertFile`.
   */
  tls: z
    .strictObject({
      /** The CA that signed the server's certificate (a private CA); default: the system's CAs. */
      serverRootCaCertFile: z.string().min(1).optional(),
      /** Client certificate and key for mTLS; both or neither. */
      clientCertFile: z.string().min(1).optional(),
      clientKeyFile: z.string().min(1).optional(),
      /** The name the server's certificate is checked against, when not the address's host. */
      serverNameOverride: z.string().min(1).optional(),
    })
    .superRefine((tls, ctx) => {
      if ((tls.clientCertFile === undefined) !== (tls.clientKeyFile === undefined)) {
        const missing = tls.clientCertFile === undefined ? 'clientCertFile' : 'clientKeyFile';
        ctx.addIssue({ code: 'custom', path: [missing], message: 'mTLS needs both clientCertFile and clientKeyFile; only one is set', input: undefined });
      }
    })
    .optional(),
  /**
   * Accept a connection without TLS (and without an API key) to an address that is not
   * loopback. Default false: the namespace's workflow data would cross the network in the clear.
   */
  allowPlaintext: z.boolean().default(false),
  /** Encryption of every workflow and activity payload (temporal/payload-codec.ts). */
  encryption: z
    .strictObject({
      /** The key new payloads are encrypted with. */
      activeKeyId: z.string().regex(PAYLOAD_KEY_ID, PAYLOAD_KEY_ID_MESSAGE),
      /** Key id → key (secret: by reference only): 32 bytes as 64 hex digits or base64. Old keys stay for decoding. */
      keys: z.record(z.string().regex(PAYLOAD_KEY_ID, PAYLOAD_KEY_ID_MESSAGE), z.string().min(1)),
      /** The remote codec endpoint for the Temporal Web UI (`omnisync codec-server`, `omnisync dev`). */
      codecServer: z
        .strictObject({
          /** Interface to listen on. Default 127.0.0.1. */
          host: z.string().min(1).default('127.0.0.1'),
          /** Default 8234; 0 picks a free port. */
          port: z.number().int().min(0).max(65535).default(8234),
          /** Bearer token a caller must present (secret: by reference only). */
          token: z.string().min(1),
          /** Origins of the Web UIs allowed to call it from a browser (CORS), e.g. https://temporal.example.com. */
          corsOrigins: z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'expected an origin such as https://temporal.example.com (scheme, host and port, no path)')).default([]),
        })
        .optional(),
    })
    .superRefine((encryption, ctx) => {
      for (const [id, text] of Object.entries(encryption.keys)) {
        // An unresolved reference is reported by the loader already.
        if (containsReference(text)) continue;
        const problem = payloadKeyProblem(text);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['keys', id], message: problem, input: undefined });
      }
      if (!Object.hasOwn(encryption.keys, encryption.activeKeyId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['activeKeyId'],
          message: `"${encryption.activeKeyId}" is not one of temporal.encryption.keys (${Object.keys(encryption.keys).join(', ') || 'none'})`,
          input: undefined,
        });
      }
    })
    .optional(),
  /** The embedded dev server used by `omnisync dev`. */
  devServer: z
    .strictObject({
      port: z.number().int().min(1).max(65535).default(7233),
      uiPort: z.number().int().min(1).max(65535).default(8233),
    })
    .default({ port: 7233, uiPort: 8233 }),
});

export const StateStoreSettings = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('sqlite'), file: z.string().min(1) }),
  z.strictObject({
    driver: z.literal('postgres'),
    /** libpq connection string; a password in it only by reference (config/secrets.ts). */
    connectionString: z.string().min(1),
    schema: z.string().optional(),
  }),
]);

export const SandboxConfig = z.strictObject({
  /** Port of the Shopify simulator. Default 8601. */
  shopifyPort: z.number().int().min(1).max(65535).default(8601),
  /** Simulator restore rate in points/s. Default 100 (Shopify Standard plan). */
  shopifyRestoreRate: z.number().positive().default(100),
  /** Demo products seeded into the sandbox ERP and store. Default 1200. */
  products: z.number().int().min(1).max(1_000_000).default(1200),
  /** The sandbox ERP database (SQLite file). */
  erpFile: z.string().default('./data/erp.sqlite'),
  /** Stock changes the demo ERP makes per minute, so delta syncs have work. Default 30. */
  salesPerMinute: z.number().int().min(0).default(30),
  /**
   * The sandbox shop's products and locations from a file of your own (CSV `sku,name,price` or
   * JSON; docs/going-live.md) instead of the demo catalogue, to rehearse your real ERP against
   * the simulator. Default: none (the demo catalogue).
   */
  shopCatalog: z.string().min(1).optional(),
});

/**
 * The worker's Prometheus endpoint (docs/operations.md, "Metrics"): omnisync's metrics and the
 * Temporal SDK's on one `/metrics`. Off when absent; `omnisync dev` turns it on at port 9464.
 */
export const MetricsConfig = z.strictObject({
  /** Port of the endpoint. Default 9464; 0 takes a free one (the worker logs its URL). */
  port: z.number().int().min(0).max(65535).default(9464),
  /** Address it listens on. Default 127.0.0.1 (this machine only); 0.0.0.0 for a scraper elsewhere. */
  host: z.string().min(1).default('127.0.0.1'),
});

/**
 * The webhook receiver (webhooks/receiver.ts): where store tills deliver sales and returns.
 * Off when absent; `omnisync worker` and `omnisync dev` start it when present.
 */
export const WebhooksConfig = z.strictObject({
  /** Address it listens on. Default 127.0.0.1; 0.0.0.0 behind a reverse proxy or for tills elsewhere. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8090),
  /** Larger bodies are refused with 413 before they are read whole. Default 256 KiB. */
  bodyLimitBytes: z.number().int().min(1024).max(10 * 1024 * 1024).default(256 * 1024),
  /** Senders by id: events go to POST /webhooks/<id>; the id is the source of their stock movements. */
  sources: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a source id of lowercase letters, digits and dashes'),
      z.strictObject({
        kind: z.literal('pos'),
        /** The HMAC-SHA256 secret the sender signs with, by reference (${env:…} or ${file:…}). */
        secret: z.string().min(16, 'expected a secret of at least 16 characters'),
      }),
    )
    .refine((sources) => Object.keys(sources).length > 0, 'expected at least one source'),
});

export const OmnisyncConfig = z.strictObject({
  /** Folder for runtime data (Temporal db, state store, sandbox). Default ./data. */
  dataDir: z.string().default('./data'),
  temporal: TemporalConfig.default(TemporalConfig.parse({})),
  stateStore: StateStoreSettings.default({ driver: 'sqlite', file: './data/omnisync.sqlite' }),
  logging: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
    .default({ level: 'info' }),
  sandbox: SandboxConfig.optional(),
  metrics: MetricsConfig.optional(),
  webhooks: WebhooksConfig.optional(),
  connectors: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a connector id of lowercase letters, digits and dashes'), ConnectorEntry),
  syncs: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'expected a sync name of lowercase letters, digits and dashes'), SyncConfig).default({}),
});
export type OmnisyncConfigFile = z.infer<typeof OmnisyncConfig>;
