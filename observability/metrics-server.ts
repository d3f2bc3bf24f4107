/**
 * The worker's one metrics endpoint: `GET /metrics` answers with omnisync's registry followed by
 * the Temporal SDK's own metrics (worker task slots, poll and schedule-to-start latencies,
 * sticky cache), which the SDK's native core exports on a loopback address of its own.
 *
 * Merging is sound because both are Prometheus text exposition format 0.0.4, and their metric
 * families never share a name (ours start with omnisync_, the SDK's with temporal_), so the
 * concatenation is one valid exposition. Prometheus then scrapes one target per worker. When
 * the SDK's exporter does not answer, the endpoint still serves omnisync's metrics, with a
 * comment line saying why the SDK's are missing (and `omnisync_sdk_metrics_up 0`).
 */
import http from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';

export interface MetricsEndpointOptions {
  /** Address to listen on; 127.0.0.1 unless the scraper is on another machine. */
  host: string;
  /** Port; 0 takes a free one (see `url`). */
  port: number;
  registry: Registry;
  /** The SDK exporter's scrape URL (http://127.0.0.1:<port>/metrics); absent: only omnisync's metrics. */
  sdkMetricsUrl?: string;
  logger: Pick<Logger, 'warn'>;
  /** How long a scrape waits for the SDK's exporter. Default 2 s. */
  sdkTimeoutMs?: number;
}

export interface MetricsEndpoint {
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The name of the gauge the endpoint adds: 1 when the SDK's metrics are in the answer. */
export const SDK_METRICS_UP = 'omnisync_sdk_metrics_up';

export async function startMetricsEndpoint(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  let sdkWarned = false;
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(path === '/metrics' ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(path === '/metrics' ? 'GET only\n' : 'metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        const ours = await options.registry.metrics();
        const sdk = options.sdkMetricsUrl === undefined ? { text: '', problem: 'the Temporal SDK exporter is not enabled in this process' } : await fetchText(options.sdkMetricsUrl, options.sdkTimeoutMs ?? 2_000);
        if (sdk.problem !== undefined && options.sdkMetricsUrl !== undefined && !sdkWarned) {
          sdkWarned = true;
          options.logger.warn({ url: options.sdkMetricsUrl, err: sdk.problem }, 'Temporal SDK metrics unavailable; serving omnisync metrics alone');
        }
        const up = `# HELP ${SDK_METRICS_UP} Whether the Temporal SDK's metrics are included in this answer\n# TYPE ${SDK_METRICS_UP} gauge\n${SDK_METRICS_UP} ${sdk.problem === undefined ? 1 : 0}\n`;
        const tail = sdk.problem === undefined ? sdk.text : `# Temporal SDK metrics unavailable: ${sdk.problem.replace(/\s+/g, ' ')}\n`;
        response.writeHead(200, { 'Content-Type': options.registry.contentType });
        response.end(`${ours.endsWith('\n') ? ours : `${ours}\n`}${up}${tail}`);
      } catch (err) {
        response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostInUrl}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free TCP port on 127.0.0.1 at this moment, for the SDK's exporter (which cannot report the one it took). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function fetchText(url: string, timeoutMs: number): Promise<{ text: string; problem?: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { text: '', problem: `HTTP ${response.status} from ${url}` };
    const text = await response.text();
    return { text: text === '' || text.endsWith('\n') ? text : `${text}\n` };
  } catch (err) {
    return { text: '', problem: `${url}: ${(err as Error).message}` };
  }
}
