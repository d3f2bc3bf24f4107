export { erpSqlManifest } from './manifest';
export { ErpSqlConfig, ErpDatabaseConfig, type ErpDatabaseConfigInput } from './config';
