/**
 * The remote codec endpoint of the Temporal Web UI and CLI (Temporal's codec server protocol):
 * `POST …/decode` and `POST …/encode` take `{"payloads": [...]}` (Payloads as protobuf JSON:
 * metadata values and data in base64) and answer the same shape, decoded or encoded with the
 * config's payload keys. Only the last path segment names the operation, so the endpoint may
 * be mounted under any prefix. Browsers get CORS for the configured UI origins (preflight with
 * `Content-Type`, `X-Namespace` and `Authorization`).
 *
 * Every call needs the token: `Authorization: Bearer <token>`, or the token as the path before
 * the operation (`/<token>/decode`). The second form exists because the Web UI cannot send a
 * bearer token of our choosing: its `passAccessToken` sends its own OAuth access token (and only
 * to an https endpoint), so the dev server's UI is given `http://127.0.0.1:<port>/<token>` as its
 * codec endpoint. Tokens are compared in constant time; nothing about a request's path or token
 * is logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { LoadedConfig } from '../config/load';
import { payloadCodecOf } from './payload-codec';

export interface CodecServerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The token every call must present (bearer or path). */
  token: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8234; 0 picks a free port. */
  port?: number;
  /** Origins allowed to call from a browser (the Web UI's, e.g. `http://127.0.0.1:8233`). */
  corsOrigins?: readonly string[];
  logger?: CodecServerLogger;
}

export interface CodecServer {
  /** `http://<host>:<port>`: the endpoint for callers that send `Authorization: Bearer`. */
  url: string;
  /** The endpoint with the token in its path, for the Web UI (`--ui-codec-endpoint`). A secret. */
  uiEndpoint: string;
  /** Allows more browser origins (e.g. a UI whose port was picked after this started). */
  allowOrigins(origins: readonly string[]): void;
  close(): Promise<void>;
}

/** The endpoint's port unless configured (the dev server's UI is 8233). */
export const DEFAULT_CODEC_PORT = 8234;

/** The largest request body accepted (the UI sends one event's payloads per call). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A request the codec refuses, with the HTTP status it answers. */
class CodecRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Constant time in the token's content; digests make the lengths equal. */
function tokenMatches(presented: string | undefined, expected: Buffer): boolean {
  return presented !== undefined && timingSafeEqual(digest(presented), expected);
}

/**
 * Starts the codec endpoint.
 *
 * @throws Error (EADDRINUSE) when the port is taken
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  if (options.token === '') throw new Error('the codec endpoint needs a token (temporal.encryption.codecServer.token)');
  const expectedToken = digest(options.token);
  const origins = new Set(options.corsOrigins ?? []);
  const host = options.host ?? '127.0.0.1';

  /** The codec's own refusals (unknown key id, altered payload) are the caller's problem: 400. */
  const convert = async (operation: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> => {
    if (operation === 'encode') return options.codec.encode(payloads);
    try {
      return await options.codec.decode(payloads);
    } catch (err) {
      throw new CodecRequestError(400, (err as Error).message);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      const status = err instanceof CodecRequestError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) options.logger?.warn({ status, err: message }, 'codec endpoint: request failed');
      if (!response.headersSent) sendJson(response, status, { message }, request);
    });
  });

  const corsHeaders = (request: IncomingMessage): Record<string, string> => {
    const origin = request.headers.origin;
    if (origin === undefined || !origins.has(origin)) return {};
    return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
  };

  const sendJson = (response: ServerResponse, status: number, body: unknown, request: IncomingMessage, extra: Record<string, string> = {}) => {
    response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...corsHeaders(request), ...extra });
    response.end(JSON.stringify(body));
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://codec').pathname;
    const operation = /\/(encode|decode)$/.exec(path)?.[1] as 'encode' | 'decode' | undefined;

    if (request.method === 'OPTIONS') {
      // A preflight carries no credentials: it is answered for allowed origins only.
      const cors = corsHeaders(request);
      if (cors['Access-Control-Allow-Origin'] === undefined) throw new CodecRequestError(403, 'origin not allowed (temporal.encryption.codecServer.corsOrigins)');
      response.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      response.end();
      return;
    }
    if (operation === undefined) throw new CodecRequestError(404, 'not found: the codec endpoint serves POST …/encode and POST …/decode');
    if (request.method !== 'POST') throw new CodecRequestError(405, `${operation} takes POST`);

    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    const pathToken = decodePathToken(path.slice(1, -(operation.length + 1)));
    // Both are checked, whatever the first says: the time taken does not tell which form was tried.
    const bearerOk = tokenMatches(bearer, expectedToken);
    const pathOk = tokenMatches(pathToken, expectedToken);
    if (!bearerOk && !pathOk) throw new CodecRequestError(401, 'missing or wrong token (Authorization: Bearer <token>)');

    const payloads = parsePayloads(await readBody(request));
    const converted = await convert(operation, payloads);
    sendJson(response, 200, { payloads: converted.map(payloadToJson) }, request);
  }

  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_CODEC_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listening;
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.logger?.info({ url, corsOrigins: [...origins] }, 'codec endpoint listening');
  return {
    url,
    uiEndpoint: `${url}/${encodeURIComponent(options.token)}`,
    allowOrigins(more) {
      for (const origin of more) origins.add(origin);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function decodePathToken(segment: string): string | undefined {
  if (segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new CodecRequestError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new CodecRequestError(400, 'request body is not JSON');
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytesOf(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new CodecRequestError(400, `${what}: expected base64 text`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}` (protobuf JSON of Payloads). */
function parsePayloads(body: unknown): Payload[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new CodecRequestError(400, 'expected {"payloads": [...]}');
  const list = (body as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(list)) throw new CodecRequestError(400, 'payloads: expected a list');
  return list.map((item: unknown, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new CodecRequestError(400, `payloads[${index}]: expected a payload object`);
    const { metadata, data } = item as { metadata?: unknown; data?: unknown };
    if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))) throw new CodecRequestError(400, `payloads[${index}].metadata: expected a map`);
    return {
      metadata: Object.fromEntries(Object.entries((metadata ?? {}) as Record<string, unknown>).map(([key, value]) => [key, bytesOf(value, `payloads[${index}].metadata.${key}`)])),
      data: data === undefined ? new Uint8Array() : bytesOf(data, `payloads[${index}].data`),
    };
  });
}

function payloadToJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * The codec endpoint `omnisync dev` runs when payloads are encrypted (undefined when not), for
 * the dev server's Web UI on `uiPort`: `temporal.encryption.codecServer` when configured, else
 * on 127.0.0.1:8234 (any free port when taken) with a token made for this run.
 */
export async function startDevCodecServer(
  temporalConfig: Pick<LoadedConfig['temporal'], 'encryption'>,
  options: { uiPort: number; logger?: CodecServerLogger },
): Promise<CodecServer | undefined> {
  const codec = payloadCodecOf(temporalConfig);
  if (codec === undefined) return undefined;
  const settings = temporalConfig.encryption?.codecServer;
  const corsOrigins = [...(settings?.corsOrigins ?? []), `http://127.0.0.1:${options.uiPort}`, `http://localhost:${options.uiPort}`];
  const start = (port: number) =>
    startCodecServer({
      codec,
      token: settings?.token ?? randomBytes(24).toString('base64url'),
      host: settings?.host ?? '127.0.0.1',
      port,
      corsOrigins,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  if (settings !== undefined) return start(settings.port);
  try {
    return await start(DEFAULT_CODEC_PORT);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return start(0);
  }
}
