/**
 * The connector registry: the one place that lists connector kinds. Workflows and activities
 * reach connectors through it (by the instance id from config), never by importing a kind.
 */
import type { ConnectorManifest } from './contract';
import { erpSqlManifest } from './erp-sql';
import { legacyFilesManifest } from './legacy-files';
import { shopifyManifest } from './shopify';

export class ConnectorRegistry {
  private readonly manifests = new Map<string, ConnectorManifest>();

  constructor(manifests: readonly ConnectorManifest[]) {
    for (const manifest of manifests) {
      if (this.manifests.has(manifest.kind)) throw new Error(`connector kind "${manifest.kind}" is registered twice`);
      this.manifests.set(manifest.kind, manifest);
    }
  }

  get(kind: string): ConnectorManifest | undefined {
    return this.manifests.get(kind);
  }

  kinds(): string[] {
    return [...this.manifests.keys()].sort();
  }
}

/** The kinds shipped with omnisync. */
export function builtInConnectors(): ConnectorRegistry {
  return new ConnectorRegistry([erpSqlManifest, legacyFilesManifest, shopifyManifest]);
}
