/** Turns the `temporal:` section of the config into a connection target (reads mTLS files). */
import { readFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/load';
import type { TemporalTarget } from './connection';

export function temporalTargetFromConfig(temporal: LoadedConfig['temporal']): TemporalTarget {
  const tls = temporal.tls;
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    ...(temporal.apiKey ? { apiKey: temporal.apiKey } : {}),
    ...(tls
      ? {
          tls: {
            ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
            ...(tls.clientCertFile && tls.clientKeyFile
              ? { clientCertPair: { crt: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } }
              : {}),
          },
        }
      : {}),
  };
}
