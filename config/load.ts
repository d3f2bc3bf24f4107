/**
 * Loads and validates omnisync.yaml. Every problem is collected and reported as one line with
 * its path and what was expected; nothing starts until the file is clean (CLI exit code 2).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConnectorEntry, OmnisyncConfig, SyncConfig } from './schema';
import { joinPath, resolveReferences, resolveString, valueAtPath, type ReferenceContext } from './references';
import { TOP_LEVEL_SECRETS, inlineSecretProblem, secretFormOf, secretParts, type SecretField, type SecretForm } from './secrets';
import type { StockMapping } from '../core/stock-mapping';
import type { PriceMapping } from '../core/entities/price';
import { ENTITIES, entitySpec, type EntityName } from '../core/entities';
import type { Capability, ConnectorManifest } from '../connectors/contract';
import type { ConnectorRegistry } from '../connectors/registry';
import type { StateStoreConfig } from '../state/kysely-store';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadedConnector {
  id: string;
  kind: string;
  manifest: ConnectorManifest;
  /** Validated config with references resolved. Contains secrets: never log or pass to workflows. */
  config: unknown;
  /**
   * References of its config that could not be resolved (unset variables, unreadable files),
   * one line each with its path, when the loader was told to let them pass (LoadOptions
   * requireReferencesOf): the connector is known, but nothing may connect with it.
   */
  unresolved?: string[];
}

interface LoadedSyncBase extends Omit<SyncConfig, 'entity'> {
  name: string;
  /** The mapping file path as written in the config (for messages). */
  mappingFile: string;
}

export interface LoadedStockSync extends LoadedSyncBase {
  entity: 'stock';
  stockMapping: StockMapping;
}

export interface LoadedPriceSync extends LoadedSyncBase {
  entity: 'price';
  priceMapping: PriceMapping;
}

/** A sync as the engine uses it: its config and its parsed mapping, by entity. */
export type LoadedSync = LoadedStockSync | LoadedPriceSync;

export interface LoadedConfig {
  file: string;
  baseDir: string;
  dataDir: string;
  temporal: z.infer<typeof OmnisyncConfig>['temporal'];
  stateStore: StateStoreConfig;
  logging: z.infer<typeof OmnisyncConfig>['logging'];
  sandbox: z.infer<typeof OmnisyncConfig>['sandbox'];
  /** The worker's metrics endpoint; absent: off. */
  metrics?: z.infer<typeof OmnisyncConfig>['metrics'];
  /** The webhook receiver; absent: off. Holds resolved secrets: never log or pass to workflows. */
  webhooks?: z.infer<typeof OmnisyncConfig>['webhooks'];
  connectors: Map<string, LoadedConnector>;
  syncs: Map<string, LoadedSync>;
  /** Resolved secret values, for log redaction. */
  secretValues: string[];
  /** HTTP headers that carry secrets, as the configured connectors' manifests declare them, for log redaction. */
  secretHeaders: string[];
  /** What is fine for this command but will stop another (references left unresolved). */
  warnings: string[];
}

export interface LoadOptions {
  registry: ConnectorRegistry;
  env?: NodeJS.ProcessEnv;
  /**
   * Connectors whose references must all resolve. Default: every connector (a command that may
   * connect to any of them). A command that touches only some (`connectors check erp`, `config
   * validate`: none) names them; an unresolved reference of another connector is then a warning
   * that names the commands that will need it, and that connector is marked `unresolved`.
   */
  requireReferencesOf?: ReadonlySet<string>;
}

/** Formats zod issues as `path: what was expected` lines, one per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
  return issues.flatMap((issue) => {
    const path = issue.path.reduce<string>((acc, key) => joinPath(acc, typeof key === 'symbol' ? String(key) : key), prefix) || '(root)';
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => `${joinPath(path === '(root)' ? '' : path, key)}: unknown key`);
      case 'invalid_type':
        return issue.input === undefined
          ? [`${path}: required, expected ${issue.expected}`]
          : [`${path}: expected ${issue.expected}, got ${describeValue(issue.input)}`];
      case 'invalid_value':
        return [`${path}: expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describeValue(issue.input)}`];
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? 'at least' : 'at most';
        const limit = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const unit = issue.origin === 'array' || issue.origin === 'set' ? ` item${Number(limit) === 1 ? '' : 's'}` : issue.origin === 'string' ? ` character${Number(limit) === 1 ? '' : 's'}` : '';
        return [`${path}: expected ${bound} ${String(limit)}${unit}, got ${describeValue(issue.input)}`];
      }
      case 'invalid_key':
        // A record key that fails its own schema (a connector id, a webhook source id): its messages.
        return issue.issues.length > 0 ? issue.issues.map((inner) => `${path}: ${inner.message}`) : [`${path}: ${issue.message}`];
      case 'invalid_union':
        if ('discriminator' in issue && typeof issue.discriminator === 'string') {
          return [`${joinPath(path === '(root)' ? '' : path, issue.discriminator)}: unsupported value ${describeValue(valueAtPath(issue.input, issue.discriminator))}`];
        }
        return [`${path}: ${issue.message}`];
      default:
        return [`${path}: ${issue.message}`];
    }
  });
}

/** yaml's message without the position and code frame it appends (we print the position first). */
function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${String(value)}`;
}

export function loadConfig(file: string, options: LoadOptions): LoadedConfig {
  const absolute = resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  return parseConfig(text, absolute, options);
}

/**
 * Parses config text; `file` names it in messages and anchors relative paths.
 *
 * Every stage runs, and their problems are reported together: the file's structure (top-level
 * schema, which includes the syncs and their cron expressions), secrets given inline, each
 * connector's own config schema, and the syncs' references to connectors and mapping files. A
 * check that depends on a broken part is skipped, never reported as a problem of its own: a
 * sync naming a connector whose config fails is not told the connector is unknown, and a
 * connector of an unknown kind is not checked for capabilities.
 */
export function parseConfig(text: string, file: string, options: LoadOptions): LoadedConfig {
  const display = relative(process.cwd(), file) || file;
  const baseDir = dirname(file);
  const problems: string[] = [];
  const warnings: string[] = [];
  const report = (line: string) => problems.push(line);
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(display, document.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${yamlMessage(e.message)}`));
  }
  const raw: unknown = document.toJS() ?? {};
  const context: ReferenceContext = { env: options.env ?? process.env, baseDir };
  const secretValues: string[] = [];

  // Secrets are checked on the text as written (before resolution): a literal secret is refused.
  const topLevelSecrets = [...TOP_LEVEL_SECRETS, ...encryptionSecrets(raw), ...webhookSecrets(raw)];
  for (const secret of topLevelSecrets) {
    const problem = inlineSecretProblem(valueAtPath(raw, secret.path), secret.path, secret.form);
    if (problem !== undefined) report(problem);
  }

  // The file's structure, references resolved; connector configs are resolved and validated
  // below, by their kind's own schema.
  const rawConnectors = isRecord(raw) ? raw.connectors : undefined;
  const resolvedTop = resolveReferences(isRecord(raw) ? { ...raw, connectors: undefined } : raw, '', context, report);
  const parsed = OmnisyncConfig.safeParse(isRecord(resolvedTop) ? { ...resolvedTop, connectors: rawConnectors } : resolvedTop, { reportInput: true });
  if (!parsed.success) problems.push(...formatIssues(parsed.error.issues, ''));

  // Connectors: each one whose kind is readable, even when other parts of the file are broken.
  const declared = isRecord(rawConnectors) ? rawConnectors : undefined;
  const connectors = new Map<string, LoadedConnector>();
  for (const [id, entry] of Object.entries(declared ?? {})) {
    const deferReferences = options.requireReferencesOf !== undefined && !options.requireReferencesOf.has(id);
    const loaded = loadConnector(id, entry, options.registry, context, problems, deferReferences);
    if (loaded) {
      connectors.set(id, loaded.connector);
      secretValues.push(...loaded.secretValues);
      for (const line of loaded.connector.unresolved ?? []) {
        warnings.push(`${line}: \`omnisync worker\`, \`omnisync dev\`, \`sync run\` of its syncs and \`connectors check ${id}\` will need it`);
      }
    }
  }

  // Syncs: the references of each sync whose fields are readable.
  const rawSyncs = isRecord(resolvedTop) && isRecord(resolvedTop.syncs) ? resolvedTop.syncs : {};
  const mappings = new Map<string, unknown>();
  for (const [name, sync] of Object.entries(rawSyncs)) {
    if (!isRecord(sync)) continue; // reported by the file's structure
    const path = `syncs.${name}`;
    const source = fieldOf(sync, 'source');
    const targets = fieldOf(sync, 'targets');
    const pageSize = fieldOf(sync, 'pageSize');
    const mappingFile = fieldOf(sync, 'mapping');
    // An unknown entity is reported by the file's structure; its references cannot be checked.
    const entity = typeof sync.entity === 'string' && Object.hasOwn(ENTITIES, sync.entity) ? (sync.entity as EntityName) : undefined;
    if (entity === undefined) continue;
    const spec = entitySpec(entity);
    // Without a readable connectors block, whether a connector exists cannot be said.
    if (declared) {
      if (source !== undefined) requireCapability(declared, connectors, options.registry, source, spec.readCapability as Capability, `${path}.source`, problems);
      targets?.forEach((target, index) => requireCapability(declared, connectors, options.registry, target, spec.writeCapability as Capability, `${path}.targets[${index}]`, problems));
    }
    const schedule = isRecord(sync.schedule) ? sync.schedule : {};
    for (const mode of Object.keys(schedule)) {
      if ((mode === 'full' || mode === 'delta') && !spec.modes.includes(mode)) problems.push(`${path}.schedule.${mode}: ${spec.modesNote ?? `${entity} syncs run only ${spec.modes.join(' and ')}`}`);
    }
    const sourceConnector = source === undefined ? undefined : connectors.get(source);
    const maxPage = sourceConnector === undefined || sourceConnector.unresolved !== undefined ? undefined : sourceConnector.manifest.maxPageSize?.(sourceConnector.config);
    if (maxPage !== undefined && pageSize !== undefined && pageSize > maxPage) {
      problems.push(`${path}.pageSize: ${pageSize} is more than connector "${source}" reads per page (${maxPage}); raise connectors.${source}.config.pageSize or lower this`);
    }
    if (source !== undefined && targets?.includes(source)) problems.push(`${path}.targets: the source "${source}" cannot also be a target`);
    const mapping = mappingFile === undefined ? undefined : loadMapping(resolve(baseDir, mappingFile), `${path}.mapping`, mappingFile, entity, targets ?? [], problems);
    if (mapping !== undefined) mappings.set(name, mapping);
  }

  if (problems.length > 0 || !parsed.success) throw new ConfigError(display, problems);
  const top = parsed.data;

  const syncs = new Map<string, LoadedSync>();
  for (const [name, sync] of Object.entries(top.syncs)) {
    const base = { ...sync, name, mappingFile: sync.mapping };
    syncs.set(
      name,
      sync.entity === 'stock'
        ? { ...base, entity: 'stock', stockMapping: mappings.get(name) as StockMapping }
        : { ...base, entity: 'price', priceMapping: mappings.get(name) as PriceMapping },
    );
  }
  const absolutePath = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const stateStore: StateStoreConfig =
    top.stateStore.driver === 'sqlite'
      ? { driver: 'sqlite', file: absolutePath(top.stateStore.file) }
      : { driver: 'postgres', connectionString: top.stateStore.connectionString, schema: top.stateStore.schema };
  for (const secret of topLevelSecrets) {
    secretValues.push(...resolvedSecretValues(valueAtPath(raw, secret.path), valueAtPath(top, secret.path), secret.form, context));
  }
  return {
    file: display,
    baseDir,
    dataDir: absolutePath(top.dataDir),
    temporal: withTlsFilesResolved(top.temporal, absolutePath),
    stateStore,
    logging: top.logging,
    ...(top.metrics === undefined ? {} : { metrics: top.metrics }),
    ...(top.webhooks === undefined ? {} : { webhooks: top.webhooks }),
    sandbox: top.sandbox
      ? { ...top.sandbox, erpFile: absolutePath(top.sandbox.erpFile), ...(top.sandbox.shopCatalog === undefined ? {} : { shopCatalog: absolutePath(top.sandbox.shopCatalog) }) }
      : undefined,
    connectors,
    syncs,
    secretValues: [...new Set(secretValues)],
    secretHeaders: [...new Set([...connectors.values()].flatMap((connector) => connector.manifest.secretHeaders))],
    warnings,
  };
}

/** The temporal section with its TLS files relative to the config file's folder, as ${file:…} is. */
function withTlsFilesResolved(temporal: LoadedConfig['temporal'], absolutePath: (path: string) => string): LoadedConfig['temporal'] {
  if (temporal.tls === undefined) return temporal;
  const tls = { ...temporal.tls };
  for (const key of ['serverRootCaCertFile', 'clientCertFile', 'clientKeyFile'] as const) {
    const file = tls[key];
    if (file !== undefined) tls[key] = absolutePath(file);
  }
  return { ...temporal, tls };
}

/** The payload keys and the codec endpoint's token (temporal.encryption): secrets, by reference only. */
function encryptionSecrets(raw: unknown): SecretField[] {
  const keys = valueAtPath(raw, 'temporal.encryption.keys');
  return [
    ...(isRecord(keys) ? Object.keys(keys).map((id) => ({ path: `temporal.encryption.keys.${id}`, form: 'whole' as const })) : []),
    { path: 'temporal.encryption.codecServer.token', form: 'whole' },
  ];
}

function webhookSecrets(raw: unknown): SecretField[] {
  const sources = valueAtPath(raw, 'webhooks.sources');
  return isRecord(sources) ? Object.keys(sources).map((id) => ({ path: `webhooks.sources.${id}.secret`, form: 'whole' as const })) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A sync's field when it passes its own schema (defaults applied), else undefined. */
function fieldOf<K extends keyof typeof SyncConfig.shape>(sync: Record<string, unknown>, key: K): z.output<(typeof SyncConfig.shape)[K]> | undefined {
  const result = SyncConfig.shape[key].safeParse(sync[key]);
  return result.success ? (result.data as z.output<(typeof SyncConfig.shape)[K]>) : undefined;
}

/**
 * Checks one `connectors.<id>` entry with its kind's manifest: secrets as written, references,
 * the kind's config schema; problems go onto `problems`. Undefined when the config fails its
 * schema or the kind is unknown or unreadable (the file's structure reports the latter).
 */
function loadConnector(
  id: string,
  entry: unknown,
  registry: ConnectorRegistry,
  context: ReferenceContext,
  problems: string[],
  /** Unresolved references become the connector's `unresolved` lines instead of problems. */
  deferReferences = false,
): { connector: LoadedConnector; secretValues: string[] } | undefined {
  const path = `connectors.${id}`;
  if (!isRecord(entry)) return undefined;
  const kind = ConnectorEntry.shape.kind.safeParse(entry.kind);
  if (!kind.success) return undefined;
  const manifest = registry.get(kind.data);
  if (!manifest) {
    problems.push(`${path}.kind: unknown connector kind "${kind.data}" (known: ${registry.kinds().join(', ')})`);
    return undefined;
  }
  const rawConfig = entry.config ?? {};
  for (const field of manifest.secretFields) {
    const problem = inlineSecretProblem(valueAtPath(rawConfig, field), `${path}.config.${field}`, secretFormOf(field));
    if (problem !== undefined) problems.push(problem);
  }
  const unresolved: string[] = [];
  const resolved = resolveReferences(rawConfig, `${path}.config`, context, (line) => (deferReferences ? unresolved : problems).push(line));
  const result = manifest.configSchema.safeParse(resolved, { reportInput: true });
  if (!result.success) {
    // A field still holding its unresolved reference fails the schema for that reason alone.
    const unresolvedPaths = new Set(unresolved.map((line) => line.slice(0, line.indexOf(': '))));
    const issues = formatIssues(result.error.issues, `${path}.config`).filter((line) => !unresolvedPaths.has(line.slice(0, line.indexOf(': '))));
    if (issues.length > 0 || unresolved.length === 0) {
      problems.push(...issues);
      return undefined;
    }
    return { connector: { id, kind: kind.data, manifest, config: undefined, unresolved }, secretValues: [] };
  }
  if (unresolved.length > 0) return { connector: { id, kind: kind.data, manifest, config: result.data, unresolved }, secretValues: [] };
  const secretValues = manifest.secretFields.flatMap((field) =>
    resolvedSecretValues(valueAtPath(rawConfig, field), valueAtPath(result.data, field), secretFormOf(field), context),
  );
  return { connector: { id, kind: kind.data, manifest, config: result.data }, secretValues };
}

/**
 * The values to scrub from logs for one secret field: its resolved value, and for a connection
 * string also the resolved password alone.
 */
function resolvedSecretValues(written: unknown, resolvedValue: unknown, form: SecretForm, context: ReferenceContext): string[] {
  if (typeof written !== 'string' || typeof resolvedValue !== 'string' || resolvedValue === '') return [];
  const parts = form === 'whole' ? [] : secretParts(written, form).map((part) => resolveString(part, '', context, () => {}));
  return [resolvedValue, ...parts].filter((value) => value !== '');
}

function requireCapability(
  declared: Record<string, unknown>,
  loaded: Map<string, LoadedConnector>,
  registry: ConnectorRegistry,
  id: string,
  capability: Capability,
  path: string,
  problems: string[],
): void {
  if (!Object.hasOwn(declared, id)) {
    problems.push(`${path}: unknown connector "${id}" (defined: ${Object.keys(declared).join(', ') || 'none'})`);
    return;
  }
  const entry = declared[id];
  const kind = isRecord(entry) && typeof entry.kind === 'string' ? entry.kind : undefined;
  // A connector of an unknown or unreadable kind has its own problem; its capabilities are unknown.
  const manifest = loaded.get(id)?.manifest ?? (kind === undefined ? undefined : registry.get(kind));
  if (manifest && !manifest.capabilities.includes(capability)) {
    problems.push(`${path}: connector "${id}" (kind ${manifest.kind}) cannot do ${capability} (it offers: ${manifest.capabilities.join(', ')})`);
    return;
  }
  // The kind offers it; whether this instance's config lets it serve it is the kind's to say.
  const connector = loaded.get(id);
  // A connector with unresolved references has no config to ask (a warning says so).
  const missing = connector === undefined || connector.unresolved !== undefined ? undefined : connector.manifest.missingFor(capability, connector.config);
  if (missing !== undefined) problems.push(`${path}: connector "${id}" cannot do ${capability} with its config: ${missing}`);
}

function loadMapping(file: string, path: string, display: string, entity: EntityName, targets: readonly string[], problems: string[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${path}: cannot read mapping file ${display} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    problems.push(...document.errors.map((e) => `${display}: line ${e.linePos?.[0]?.line ?? '?'}: ${yamlMessage(e.message)}`));
    return undefined;
  }
  const content: unknown = document.toJS();
  // A mapping of another entity would fail its schema with a list of unrelated problems.
  const declaredEntity = isRecord(content) ? content.entity : undefined;
  if (declaredEntity !== entity) {
    problems.push(`${display}: entity: the sync copies ${entity}, but the mapping file declares ${declaredEntity === undefined ? 'no entity' : JSON.stringify(declaredEntity)} (expected "entity: ${entity}")`);
    return undefined;
  }
  const spec = entitySpec(entity);
  const result = spec.mappingSchema.safeParse(content, { reportInput: true });
  if (!result.success) {
    problems.push(...formatIssues(result.error.issues, '').map((line) => `${display}: ${line}`));
    return undefined;
  }
  const logical = spec.checkMapping(result.data, { targets });
  if (logical.length > 0) {
    problems.push(...logical.map((line) => `${display}: ${line}`));
    return undefined;
  }
  return result.data;
}
