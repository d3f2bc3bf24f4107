export { legacyFilesManifest } from './manifest';
export { LegacyFilesConfig } from './config';
