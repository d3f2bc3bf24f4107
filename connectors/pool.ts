/**
 * Connector instances of one worker process, created on first use from validated config and
 * shared by all activities (so a Shopify instance's cost pacer sees every call of this process).
 */
import type { Logger } from 'pino';
import type { Capability, ConnectorInstance, OperationTypes } from './contract';
import type { LoadedConfig } from '../config/load';
import type { StateStore } from '../state/store';
import { configError } from '../core/errors';
import { NO_METRICS, type OmnisyncMetrics } from '../observability/metrics';

export class ConnectorPool {
  private readonly instances = new Map<string, ConnectorInstance>();

  constructor(
    private readonly config: Pick<LoadedConfig, 'connectors' | 'baseDir'>,
    private readonly store: StateStore,
    private readonly logger: Logger,
    private readonly metrics: OmnisyncMetrics = NO_METRICS,
  ) {}

  get(id: string): ConnectorInstance {
    const existing = this.instances.get(id);
    if (existing) return existing;
    const entry = this.config.connectors.get(id);
    if (!entry) throw configError(`connector "${id}" is not defined in the config this worker runs with`);
    if (entry.unresolved !== undefined) throw configError(`connector "${id}" cannot connect: ${entry.unresolved.join('; ')}`);
    const instance = entry.manifest.create(id, entry.config, {
      logger: this.logger.child({ connector: id }),
      crosswalk: this.store.crosswalk(id),
      baseDir: this.config.baseDir,
      metrics: this.metrics.connector(id),
    });
    this.instances.set(id, instance);
    return instance;
  }

  /** The operation of `capability` of connector `id`; a config error when its kind has none. */
  operation<C extends Capability>(id: string, capability: C): OperationTypes[C] {
    const instance = this.get(id);
    const operation = instance.operations[capability];
    if (operation === undefined) throw configError(`connector "${id}" (kind ${instance.kind}) cannot do ${capability}`);
    return operation;
  }

  async closeAll(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.allSettled(all.map((instance) => instance.close()));
  }
}
