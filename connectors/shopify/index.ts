export { shopifyManifest, ShopifyConfig } from './manifest';
