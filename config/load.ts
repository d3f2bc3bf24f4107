/**
 * Loads and validates omnisync.yaml. Every problem is collected and reported as one line with
 * its path and what was expected; nothing starts until the file is clean (CLI exit code 2).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { OmnisyncConfig, type SyncConfig } from './schema';
import { containsReference, joinPath, resolveReferences, valueAtPath, type ReferenceContext } from './references';
import { StockMapping, checkStockMapping } from '../core/stock-mapping';
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
}

export interface LoadedSync extends SyncConfig {
  name: string;
  /** The mapping file path as written in the config (for messages). */
  mappingFile: string;
  stockMapping: StockMapping;
}

export interface LoadedConfig {
  file: string;
  baseDir: string;
  dataDir: string;
  temporal: z.infer<typeof OmnisyncConfig>['temporal'];
  stateStore: StateStoreConfig;
  logging: z.infer<typeof OmnisyncConfig>['logging'];
  sandbox: z.infer<typeof OmnisyncConfig>['sandbox'];
  connectors: Map<string, LoadedConnector>;
  syncs: Map<string, LoadedSync>;
  /** Resolved secret values, for log redaction. */
  secretValues: string[];
}

export interface LoadOptions {
  registry: ConnectorRegistry;
  env?: NodeJS.ProcessEnv;
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

/** Parses config text; `file` names it in messages and anchors relative paths. */
export function parseConfig(text: string, file: string, options: LoadOptions): LoadedConfig {
  const display = relative(process.cwd(), file) || file;
  const baseDir = dirname(file);
  const problems: string[] = [];
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(display, document.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${yamlMessage(e.message)}`));
  }
  const raw: unknown = document.toJS() ?? {};
  const context: ReferenceContext = { env: options.env ?? process.env, baseDir };
  const secretValues: string[] = [];

  // Secrets are checked on the raw text (before resolution): a literal secret is refused.
  const rawConnectors = (valueAtPath(raw, 'connectors') ?? {}) as Record<string, { kind?: unknown; config?: unknown }>;
  const resolvedTop = resolveReferences(
    raw !== null && typeof raw === 'object' ? { ...(raw as object), connectors: undefined } : raw,
    '',
    context,
    (line) => problems.push(line),
  ) as Record<string, unknown>;
  const parsed = OmnisyncConfig.safeParse({ ...resolvedTop, connectors: rawConnectors }, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(display, [...problems, ...formatIssues(parsed.error.issues, '')]);
  }
  const top = parsed.data;

  const connectors = new Map<string, LoadedConnector>();
  for (const [id, entry] of Object.entries(top.connectors)) {
    const path = `connectors.${id}`;
    const manifest = options.registry.get(entry.kind);
    if (!manifest) {
      problems.push(`${path}.kind: unknown connector kind "${entry.kind}" (known: ${options.registry.kinds().join(', ')})`);
      continue;
    }
    for (const secretField of manifest.secretFields) {
      const value = valueAtPath(entry.config, secretField);
      if (typeof value === 'string' && !containsReference(value)) {
        problems.push(`${path}.config.${secretField}: secrets must be given by reference (\${env:NAME} or \${file:path}), not inline`);
      }
    }
    const resolved = resolveReferences(entry.config ?? {}, `${path}.config`, context, (line) => problems.push(line));
    const result = manifest.configSchema.safeParse(resolved, { reportInput: true });
    if (!result.success) {
      problems.push(...formatIssues(result.error.issues, `${path}.config`));
      continue;
    }
    for (const secretField of manifest.secretFields) {
      const value = valueAtPath(result.data, secretField);
      if (typeof value === 'string' && value !== '') secretValues.push(value);
    }
    connectors.set(id, { id, kind: entry.kind, manifest, config: result.data });
  }

  const syncs = new Map<string, LoadedSync>();
  for (const [name, sync] of Object.entries(top.syncs)) {
    const path = `syncs.${name}`;
    requireCapability(top.connectors, connectors, options.registry, sync.source, 'stock.read', `${path}.source`, problems);
    sync.targets.forEach((target, index) =>
      requireCapability(top.connectors, connectors, options.registry, target, 'stock.write', `${path}.targets[${index}]`, problems),
    );
    const source = connectors.get(sync.source);
    const maxPage = source?.manifest.maxPageSize?.(source.config);
    if (maxPage !== undefined && sync.pageSize > maxPage) {
      problems.push(`${path}.pageSize: ${sync.pageSize} is more than connector "${sync.source}" reads per page (${maxPage}); raise connectors.${sync.source}.config.pageSize or lower this`);
    }
    if (sync.targets.includes(sync.source)) problems.push(`${path}.targets: the source "${sync.source}" cannot also be a target`);
    const mapping = loadMapping(resolve(baseDir, sync.mapping), `${path}.mapping`, sync.mapping, problems);
    if (mapping) syncs.set(name, { ...sync, name, mappingFile: sync.mapping, stockMapping: mapping });
  }

  if (problems.length > 0) throw new ConfigError(display, problems);

  const absolutePath = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const stateStore: StateStoreConfig =
    top.stateStore.driver === 'sqlite'
      ? { driver: 'sqlite', file: absolutePath(top.stateStore.file) }
      : { driver: 'postgres', connectionString: top.stateStore.connectionString, schema: top.stateStore.schema };
  if (top.stateStore.driver === 'postgres') secretValues.push(top.stateStore.connectionString);
  if (top.temporal.apiKey) secretValues.push(top.temporal.apiKey);
  return {
    file: display,
    baseDir,
    dataDir: absolutePath(top.dataDir),
    temporal: top.temporal,
    stateStore,
    logging: top.logging,
    sandbox: top.sandbox ? { ...top.sandbox, erpFile: absolutePath(top.sandbox.erpFile) } : undefined,
    connectors,
    syncs,
    secretValues,
  };
}

function requireCapability(
  declared: Record<string, { kind: string }>,
  loaded: Map<string, LoadedConnector>,
  registry: ConnectorRegistry,
  id: string,
  capability: Capability,
  path: string,
  problems: string[],
): void {
  const entry = declared[id];
  if (!entry) {
    problems.push(`${path}: unknown connector "${id}" (defined: ${Object.keys(declared).join(', ') || 'none'})`);
    return;
  }
  const manifest = loaded.get(id)?.manifest ?? registry.get(entry.kind);
  if (manifest && !manifest.capabilities.includes(capability)) {
    problems.push(`${path}: connector "${id}" (kind ${manifest.kind}) cannot do ${capability} (it offers: ${manifest.capabilities.join(', ')})`);
  }
}

function loadMapping(file: string, path: string, display: string, problems: string[]): StockMapping | undefined {
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
  const result = StockMapping.safeParse(document.toJS(), { reportInput: true });
  if (!result.success) {
    problems.push(...formatIssues(result.error.issues, '').map((line) => `${display}: ${line}`));
    return undefined;
  }
  const logical = checkStockMapping(result.data);
  if (logical.length > 0) {
    problems.push(...logical.map((line) => `${display}: ${line}`));
    return undefined;
  }
  return result.data;
}
