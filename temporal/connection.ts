/**
 * Connections to a Temporal server: the embedded dev server, a self-hosted cluster or Temporal
 * Cloud. Which one is data (address, namespace, mTLS or API key from config), never code.
 */
import { Client, Connection, type ClientOptions, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Where and how to reach Temporal. */
export interface TemporalTarget {
  /** `host:port` of the frontend, e.g. `127.0.0.1:7233` or `<ns>.<account>.tmprl.cloud:7233`. */
  address: string;
  namespace: string;
  /** mTLS settings, or `true` for server-authenticated TLS. Default: no TLS (unless `apiKey`). */
  tls?: TLSConfig | boolean;
  /** Temporal Cloud API key; the SDK turns TLS on when it is set and `tls` is not. */
  apiKey?: string;
}

/** A client for starting, signalling and querying workflows (CLI, webhook receiver). */
export async function connectClient(
  target: TemporalTarget,
  clientOptions: Omit<ClientOptions, 'connection' | 'namespace'> = {},
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({
    address: target.address,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
    ...(target.apiKey !== undefined ? { apiKey: target.apiKey } : {}),
  });
  const client = new Client({ ...clientOptions, connection, namespace: target.namespace });
  return { connection, client };
}

/** The native connection a `Worker` polls through. */
export async function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: target.address,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
    ...(target.apiKey !== undefined ? { apiKey: target.apiKey } : {}),
  });
}
