/**
 * Connections to a Temporal server: the embedded dev server, a self-hosted cluster or Temporal
 * Cloud. Which one is data (address, namespace, mTLS or API key from config), never code.
 *
 * A connection without TLS to an address that is not loopback is refused unless the target
 * allows it (`temporal.allowPlaintext`): the namespace's workflow data, and an API key, would
 * cross the network in the clear.
 */
import { Client, Connection, type ClientOptions, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import { isIP } from 'node:net';

/** Where and how to reach Temporal. */
export interface TemporalTarget {
  /** `host:port` of the frontend, e.g. `127.0.0.1:7233` or `<ns>.<account>.tmprl.cloud:7233`. */
  address: string;
  namespace: string;
  /** mTLS settings, or `true` for server-authenticated TLS. Default: no TLS (unless `apiKey`). */
  tls?: TLSConfig | boolean;
  /** Temporal Cloud API key; the SDK turns TLS on when it is set and `tls` is not. */
  apiKey?: string;
  /** Connect without TLS to an address that is not loopback (`temporal.allowPlaintext`). Default false. */
  allowPlaintext?: boolean;
  /** The clients' data converter: payload encryption (temporal/payload-codec.ts). Default: the SDK's. */
  dataConverter?: DataConverter;
}

/** A connection refused by the plaintext policy; the CLI reports its message as a config problem. */
export class PlaintextConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaintextConnectionError';
  }
}

/** The host of a `host:port` address (`[::1]:7233` → `::1`). */
export function hostOfAddress(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  // A bare IPv6 address has more than one colon and no port.
  if ((address.match(/:/g) ?? []).length > 1) return address;
  return address.replace(/:\d+$/, '');
}

/** Loopback: 127.0.0.0/8, ::1 (also as ::ffff:127.x), localhost. Nothing leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(name) || /^::ffff:127\./.test(name);
  return false;
}

/**
 * Why a connection to `target` is refused, or undefined: without TLS and without an API key
 * (which turns TLS on), only loopback addresses are accepted, unless `allowPlaintext`.
 */
export function plaintextConnectionProblem(target: Pick<TemporalTarget, 'address' | 'tls' | 'apiKey' | 'allowPlaintext'>): string | undefined {
  const tls = target.tls !== undefined && target.tls !== false;
  if (tls || target.apiKey !== undefined || target.allowPlaintext === true) return undefined;
  if (isLoopbackHost(hostOfAddress(target.address))) return undefined;
  return (
    `refusing to connect to Temporal at ${target.address} without TLS: it is not a loopback address, so workflow data (and the connection's credentials) would cross the network unencrypted. ` +
    'Configure temporal.tls (mTLS, or an empty tls: {} for server-authenticated TLS) or temporal.apiKey (Temporal Cloud), ' +
    'or set temporal.allowPlaintext: true to accept a plaintext connection (e.g. a private network you trust)'
  );
}

function connectionOptions(target: TemporalTarget) {
  const problem = plaintextConnectionProblem(target);
  if (problem !== undefined) throw new PlaintextConnectionError(problem);
  return {
    address: target.address,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
    ...(target.apiKey !== undefined ? { apiKey: target.apiKey } : {}),
  };
}

/**
 * A client for starting, signalling and querying workflows (CLI, webhook receiver), with the
 * target's data converter (payload encryption).
 *
 * @throws PlaintextConnectionError when the plaintext policy refuses the target
 */
export async function connectClient(
  target: TemporalTarget,
  clientOptions: Omit<ClientOptions, 'connection' | 'namespace'> = {},
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect(connectionOptions(target));
  const dataConverter = clientOptions.dataConverter ?? target.dataConverter;
  const client = new Client({ ...clientOptions, ...(dataConverter === undefined ? {} : { dataConverter }), connection, namespace: target.namespace });
  return { connection, client };
}

/**
 * The native connection a `Worker` polls through (the worker's data converter comes from the
 * config: worker.ts).
 *
 * @throws PlaintextConnectionError when the plaintext policy refuses the target
 */
export async function connectWorkerConnection(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(target));
}
