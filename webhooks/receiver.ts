/**
 * The webhook receiver: where store tills (and, later, other systems) deliver events.
 *
 * An event is answered 200 only once it is durable: its movements are in the state store
 * (core/location-stock.ts keeps each once by id, so a POS that retries after a lost answer
 * changes nothing). Everything else gets a 4xx with the reason, or 503 when the store cannot
 * take it now, so the sender retries; never a 500, never a crash:
 *
 *   401 a missing or wrong signature (checked in constant time, before anything is parsed)
 *   404 a source the config does not name
 *   400 a body that is not JSON, or not an event (the first problems, with their paths)
 *   413 a body over `bodyLimitBytes`; 415 a body that is not `application/json`
 *   503 the state store failed (Retry-After: 5)
 *
 * Each answer is counted by source and outcome (`counts`, and the metric
 * `omnisync_webhook_events_total`), and logged without the body (it may
 * hold customer data) and without the secret.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { hasValidPosSignature, movementsOfPosEvent, POS_SIGNATURE_HEADER, PosStockEvent } from '../connectors/pos/events';
import type { LoadedConfig } from '../config/load';
import { NO_METRICS, type OmnisyncMetrics } from '../observability/metrics';
import { openStateStore } from '../state/kysely-store';
import type { StateStore } from '../state/store';

export interface WebhookSourceSettings {
  kind: 'pos';
  /** The shared secret of the signature (resolved from its reference). */
  secret: string;
}

export interface WebhookReceiverSettings {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  bodyLimitBytes: number;
  sources: Readonly<Record<string, WebhookSourceSettings>>;
}

export type WebhookOutcome = 'accepted' | 'duplicate' | 'unauthorized' | 'unknown source' | 'not json' | 'invalid event' | 'too large' | 'unsupported media type' | 'store unavailable';

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:8090 (events go to `<url>/webhooks/<source>`). */
  url: string;
  /** Answers so far, by `<source> <outcome>` (a duplicate counts the events whose movements were all known). */
  counts(): Record<string, number>;
  /** Stops taking events; a second call gets the first one's promise. */
  close(): Promise<void>;
}

const RETRY_AFTER_SECONDS = 5;

/**
 * The receiver the config asks for, with a state store connection of its own; undefined when
 * the config has no `webhooks:`. `omnisync worker` and `omnisync dev` start it beside the worker.
 */
export async function startConfiguredWebhookReceiver(config: Pick<LoadedConfig, 'webhooks' | 'stateStore'>, logger: Logger, metrics?: OmnisyncMetrics): Promise<WebhookReceiver | undefined> {
  if (config.webhooks === undefined) return undefined;
  const store = openStateStore(config.stateStore);
  try {
    await store.migrate();
    const receiver = await startWebhookReceiver(config.webhooks, { store, logger, ...(metrics === undefined ? {} : { metrics }) });
    return { ...receiver, close: once(() => receiver.close().finally(() => store.close())) };
  } catch (err) {
    await store.close();
    throw err;
  }
}
/** 503 with Retry-After: the sender keeps the event and tries again. */
function retryLater(reply: FastifyReply, error: string): FastifyReply {
  return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error });
}

/** `close` as the stop path and the end of a run both call it: the work once, the same promise after. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** What the counts call a source the config does not name. */
const UNKNOWN_SOURCE = '(unknown)';

export async function startWebhookReceiver(settings: WebhookReceiverSettings, deps: { store: StateStore; logger: Logger; metrics?: OmnisyncMetrics }): Promise<WebhookReceiver> {
  const { store, logger } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const counts = new Map<string, number>();
  const count = (source: string, outcome: WebhookOutcome) => {
    counts.set(`${source} ${outcome}`, (counts.get(`${source} ${outcome}`) ?? 0) + 1);
    metrics.webhookAnswered(source, outcome);
  };
  const refuse = (reply: FastifyReply, source: string, outcome: WebhookOutcome, status: number, error: string) => {
    count(source, outcome);
    logger.warn({ source, status, outcome, error }, 'webhook refused');
    return reply.code(status).send({ error });
  };

  const app: FastifyInstance = Fastify({ bodyLimit: settings.bodyLimitBytes, logger: false, return503OnClosing: true });
  // The raw bytes, as signed: the signature is checked on them before any parsing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', (_request, _payload, done) => done(Object.assign(new Error('expected Content-Type: application/json'), { statusCode: 415 }), undefined));

  app.post<{ Params: { source: string } }>('/webhooks/:source', async (request, reply) => {
    const sourceId = request.params.source;
    const source = Object.hasOwn(settings.sources, sourceId) ? settings.sources[sourceId] : undefined;
    // Counted under one name: the path is the sender's, and must not grow the counts.
    if (source === undefined) return refuse(reply, UNKNOWN_SOURCE, 'unknown source', 404, `no webhook source "${sourceId.slice(0, 64)}" is configured`);
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const signature = request.headers[POS_SIGNATURE_HEADER];
    if (!hasValidPosSignature(raw, typeof signature === 'string' ? signature : undefined, source.secret)) {
      return refuse(reply, sourceId, 'unauthorized', 401, `missing or wrong ${POS_SIGNATURE_HEADER}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return refuse(reply, sourceId, 'not json', 400, `body is not JSON: ${(err as Error).message}`);
    }
    const event = PosStockEvent.safeParse(body);
    if (!event.success) {
      const problems = event.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
      return refuse(reply, sourceId, 'invalid event', 400, `not a POS stock event: ${problems.join('; ')}`);
    }
    const movements = movementsOfPosEvent(event.data);
    let fresh: string[];
    try {
      fresh = await store.recordStockMovements(sourceId, movements);
    } catch (err) {
      count(sourceId, 'store unavailable');
      logger.error({ source: sourceId, eventId: event.data.eventId, err: (err as Error).message }, 'webhook event not stored; the sender retries');
      return retryLater(reply, 'the event could not be stored now; retry later');
    }
    const outcome: WebhookOutcome = fresh.length === 0 ? 'duplicate' : 'accepted';
    count(sourceId, outcome);
    logger.debug({ source: sourceId, eventId: event.data.eventId, store: event.data.storeId, movements: movements.length, fresh: fresh.length }, 'webhook event stored');
    return reply.code(200).send({ eventId: event.data.eventId, movements: movements.length, new: fresh.length });
  });

  // Fastify's own refusals (body too large, unsupported media type, malformed request) keep
  // their 4xx; anything unforeseen is logged and answered 503, so the sender retries.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const named = (request.params as { source?: string } | undefined)?.source;
    const source = named !== undefined && Object.hasOwn(settings.sources, named) ? named : UNKNOWN_SOURCE;
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const outcome: WebhookOutcome = status === 413 ? 'too large' : status === 415 ? 'unsupported media type' : 'invalid event';
      const message = status === 413 ? `body over ${settings.bodyLimitBytes} bytes` : error.message;
      return refuse(reply, source, outcome, status, message);
    }
    count(source, 'store unavailable');
    logger.error({ source, err: error.message }, 'webhook receiver failed on a request');
    return retryLater(reply, 'the event could not be handled now; retry later');
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}; events go to POST /webhooks/<source>` }));

  const address = await app.listen({ host: settings.host, port: settings.port });
  logger.info({ url: address, sources: Object.keys(settings.sources) }, 'webhook receiver listening');
  return {
    url: address,
    counts: () => Object.fromEntries(counts),
    close: once(() => app.close()),
  };
}
