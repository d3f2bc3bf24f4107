/**
 * Connector kind `erp-sql`: a legacy ERP without an API, read through its own database tables
 * (docs/architecture.md). SQLite (the embedded demo) and PostgreSQL, same code.
 */
import type { ConnectorInstance, ConnectorManifest } from '../contract';
import { checkErpConnection } from './check';
import { ErpSqlClient } from './client';
import { ErpSqlConfig } from './config';
import { ErpStockSource } from './stock-source';

export const erpSqlManifest: ConnectorManifest<typeof ErpSqlConfig> = {
  kind: 'erp-sql',
  title: 'Legacy ERP (SQL database: SQLite, PostgreSQL)',
  capabilities: ['stock.read'],
  configSchema: ErpSqlConfig,
  secretFields: ['database.connectionString', 'database.password'],
  maxPageSize: (config) => config.pageSize,
  rateBudget: (config) =>
    config.maxQueriesPerSecond === undefined
      ? { kind: 'unlimited' }
      : { kind: 'requests', perSecond: config.maxQueriesPerSecond, burst: Math.max(1, Math.floor(config.maxQueriesPerSecond)) },
  create(id, config, deps): ConnectorInstance {
    const client = new ErpSqlClient(config, deps.baseDir);
    return {
      id,
      kind: 'erp-sql',
      stockSource: new ErpStockSource(client, config.pageSize),
      check: () => checkErpConnection(client),
      close: () => client.close(),
    };
  },
};
