/**
 * One log stream (pino) for the hub, with secrets removed twice: by field name (redact paths)
 * and by value (every resolved secret from config is replaced wherever it appears, e.g. inside
 * an error message that quotes a connection string). JSON lines for machines; on a terminal, one
 * readable line per event (pino-pretty), after the same redaction.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { failureLogFields } from './failures';

export type { Logger } from 'pino';

/** Field names that hold secrets wherever they appear. */
export const REDACTED_FIELDS = [
  'accessToken', '*.accessToken', 'password', '*.password', 'connectionString', '*.connectionString',
  'apiKey', '*.apiKey', 'secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
];

/** Redaction paths of HTTP headers that carry secrets (each connector declares its own). */
export function secretHeaderPaths(headers: readonly string[]): string[] {
  return headers.flatMap((header) => {
    const name = JSON.stringify(header.toLowerCase());
    return [`headers[${name}]`, `*.headers[${name}]`];
  });
}

export interface LoggerSettings {
  level: string;
  /** Resolved secret values (from config) scrubbed from every string logged. */
  secretValues?: readonly string[];
  /** HTTP headers that carry secrets (the configured connectors' `secretHeaders`), redacted by name. */
  secretHeaders?: readonly string[];
  /** Where lines go; default stdout. */
  destination?: pino.DestinationStream;
  /** Extra fixed fields, e.g. { component: 'worker' }. */
  base?: Record<string, unknown>;
  /**
   * `json` (one object per line) or `pretty` (one readable line per event). Default with a
   * `destination`: json; to stdout: the environment's LOG_FORMAT, else `pretty` on a terminal
   * (stdout is a TTY) and `json` otherwise (files, pipes, log collectors).
   */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'pretty';

/** The format a logger writes when its settings do not say: LOG_FORMAT, else pretty on a terminal. */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, stdoutIsTty = process.stdout.isTTY === true): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return stdoutIsTty ? 'pretty' : 'json';
}

/** `HH:MM:ss INFO  message key=value …` in one line; fields every line has are left out. */
function prettyStream(destination: pino.DestinationStream | undefined, colorize: boolean): pino.DestinationStream {
  return pinoPretty({
    ...(destination === undefined ? {} : { destination: destination as NodeJS.WritableStream }),
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,component,sdkComponent,namespace,taskQueue,runId,workflowType',
    // Synchronous: the last lines before an exit are not lost in a buffer.
    sync: true,
  });
}

export function createLogger(settings: LoggerSettings): Logger {
  const secrets = (settings.secretValues ?? []).filter((s) => s.length >= 4);
  const scrub = (value: unknown): unknown => scrubSecrets(value, secrets);
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'omnisync', ...settings.base },
    redact: { paths: [...REDACTED_FIELDS, ...secretHeaderPaths(settings.secretHeaders ?? [])], censor: '[REDACTED]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => (secrets.length > 0 ? (scrub(object) as Record<string, unknown>) : object),
    },
    hooks: {
      logMethod(args, method) {
        if (secrets.length > 0) {
          for (let i = 0; i < args.length; i++) args[i] = scrub(args[i]) as (typeof args)[number];
        }
        method.apply(this, args);
      },
    },
  };
  // A caller that hands over its own destination wants the lines as they are, unless it asks.
  const format = settings.format ?? (settings.destination === undefined ? defaultLogFormat() : 'json');
  if (format === 'pretty') return pino(options, prettyStream(settings.destination, settings.destination === undefined && process.stdout.isTTY === true));
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** Replaces every occurrence of a secret value in strings, recursively. */
export function scrubSecrets(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (secrets.length === 0 || depth > 8) return value;
  if (typeof value === 'string') {
    let out = value;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
    return out;
  }
  if (value instanceof Error) {
    const copy = new Error(scrubSecrets(value.message, secrets) as string);
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : (scrubSecrets(value.stack, secrets) as string);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrubSecrets(v, secrets, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubSecrets(v, secrets, depth + 1)]));
  }
  return value;
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Adapts pino to Temporal's Logger, so the SDK's runtime, workflow (`log` from
 * @temporalio/workflow, with workflowId/runId attached) and activity logs share one stream.
 */
export function temporalLoggerFor(logger: Logger): TemporalLogger {
  const child = logger.child({ component: 'temporal' });
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => child[PINO_LEVEL[level]](withReadableFailures(meta), message);
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * The SDK passes failures in its log metadata as Error objects (e.g. `error` of "Activity
 * failed"), which JSON shows as `{}` or as the bare class name. Each becomes the failure's
 * chain, type and retryability (observability/failures.ts).
 */
function withReadableFailures(meta: LogMetadata | undefined): LogMetadata {
  if (meta === undefined) return {};
  let copy: LogMetadata | undefined;
  for (const [key, value] of Object.entries(meta)) {
    if (!(value instanceof Error)) continue;
    copy ??= { ...meta };
    copy[key] = failureLogFields(value);
  }
  return copy ?? meta;
}
