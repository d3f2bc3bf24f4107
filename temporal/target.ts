/**
 * Turns the `temporal:` section of the config into a connection target: reads the TLS files,
 * carries the API key, the plaintext policy and the payload encryption of clients.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import type { TemporalTarget } from './connection';
import { dataConverterOf } from './payload-codec';

/**
 * @throws Error naming the config key of a TLS file that cannot be read
 */
export function temporalTargetFromConfig(temporal: LoadedConfig['temporal']): TemporalTarget {
  const dataConverter = dataConverterOf(temporal);
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
    ...(temporal.tls ? { tls: tlsConfigOf(temporal.tls) } : {}),
    allowPlaintext: temporal.allowPlaintext,
    ...(dataConverter === undefined ? {} : { dataConverter }),
  };
}

/** The SDK's TLS settings from `temporal.tls` (paths already absolute: config/load.ts). */
export function tlsConfigOf(tls: NonNullable<LoadedConfig['temporal']['tls']>): TLSConfig {
  return {
    ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
    ...(tls.serverRootCaCertFile ? { serverRootCACertificate: readTlsFile('serverRootCaCertFile', tls.serverRootCaCertFile) } : {}),
    ...(tls.clientCertFile && tls.clientKeyFile
      ? { clientCertPair: { crt: readTlsFile('clientCertFile', tls.clientCertFile), key: readTlsFile('clientKeyFile', tls.clientKeyFile) } }
      : {}),
  };
}

function readTlsFile(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`temporal.tls.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
}
