/**
 * The Temporal server's config for the local cluster (cluster/start.ts): every service on
 * loopback with ports of its own, both stores (default and visibility) on PostgreSQL through the
 * `postgres12` plugin, one config file that all four service processes read. The layout follows
 * the server module's config/development-postgres12.yaml and docker/config_template.yaml.
 */
import YAML from 'yaml';

/** The server's four services, each run as its own process; the order they are started in. */
export const TEMPORAL_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalServiceName = (typeof TEMPORAL_SERVICES)[number];

export interface ServicePorts {
  grpc: number;
  /** Ringpop's port: services find each other through the cluster_membership table and these ports. */
  membership: number;
}

export interface TemporalClusterPorts {
  frontend: ServicePorts & { http: number };
  history: ServicePorts;
  matching: ServicePorts;
  worker: ServicePorts;
}

export interface TemporalServerConfigOptions {
  postgresPort: number;
  ports: TemporalClusterPorts;
  /** Databases the SQL tool set up: the default store's and the visibility store's. */
  databases: { default: string; visibility: string };
  /** Fixed for the cluster's life: history shards cannot be changed once the database has them. */
  numHistoryShards: number;
  dynamicConfigFile: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const LOOPBACK = '127.0.0.1';

/** The server's YAML config (all services; each process starts only the one `--service` names). */
export function temporalServerConfigYaml(options: TemporalServerConfigOptions): string {
  const { ports } = options;
  const sqlStore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${LOOPBACK}:${options.postgresPort}`,
      connectProtocol: 'tcp',
      // The throw-away server trusts loopback connections: no password.
      user: 'postgres',
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (service: ServicePorts & { http?: number }) => ({
    rpc: {
      grpcPort: service.grpc,
      membershipPort: service.membership,
      bindOnIP: LOOPBACK,
      ...(service.http === undefined ? {} : { httpPort: service.http }),
    },
  });
  const config = {
    log: { stdout: true, level: options.logLevel },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: options.numHistoryShards,
      datastores: {
        // 4 processes × (20 + 5) connections stay well under the server's max_connections.
        'postgres-default': sqlStore(options.databases.default, 20),
        'postgres-visibility': sqlStore(options.databases.visibility, 5),
      },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: LOOPBACK },
      // 0: no pprof listener (it would be one more fixed port).
      pprof: { port: 0 },
    },
    services: {
      frontend: rpc(ports.frontend),
      history: rpc(ports.history),
      matching: rpc(ports.matching),
      worker: rpc(ports.worker),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `${LOOPBACK}:${ports.frontend.grpc}`,
          httpAddress: `${LOOPBACK}:${ports.frontend.http}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: options.dynamicConfigFile, pollInterval: '10s' },
  };
  return YAML.stringify(config);
}

/**
 * Dynamic config: search attributes registered by `npm run cluster` are usable at once (as on
 * the dev server), rather than after the frontend's cache refresh.
 */
export function temporalDynamicConfigYaml(): string {
  return YAML.stringify({
    'system.forceSearchAttributesCacheRefreshOnRead': [{ value: true, constraints: {} }],
    'limit.maxIDLength': [{ value: 255, constraints: {} }],
  });
}
