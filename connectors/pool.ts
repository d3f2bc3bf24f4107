/**
 * Connector instances of one worker process, created on first use from validated config and
 * shared by all activities (so a Shopify instance's cost pacer sees every call of this process).
 */
import type { Logger } from 'pino';
import type { ConnectorInstance, StockSource, StockTarget } from './contract';
import type { LoadedConfig } from '../config/load';
import type { StateStore } from '../state/store';
import { configError } from '../core/errors';

export class ConnectorPool {
  private readonly instances = new Map<string, ConnectorInstance>();

  constructor(
    private readonly config: Pick<LoadedConfig, 'connectors' | 'baseDir'>,
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  get(id: string): ConnectorInstance {
    const existing = this.instances.get(id);
    if (existing) return existing;
    const entry = this.config.connectors.get(id);
    if (!entry) throw configError(`connector "${id}" is not defined in the config this worker runs with`);
    const instance = entry.manifest.create(id, entry.config, {
      logger: this.logger.child({ connector: id }),
      crosswalk: this.store.crosswalk(id),
      baseDir: this.config.baseDir,
    });
    this.instances.set(id, instance);
    return instance;
  }

  stockSource(id: string): StockSource {
    const source = this.get(id).stockSource;
    if (!source) throw configError(`connector "${id}" cannot read stock`);
    return source;
  }

  stockTarget(id: string): StockTarget {
    const target = this.get(id).stockTarget;
    if (!target) throw configError(`connector "${id}" cannot write stock`);
    return target;
  }

  async closeAll(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.allSettled(all.map((instance) => instance.close()));
  }
}
