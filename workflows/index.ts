/** Entry point of the workflow bundle: every workflow type the hub worker runs. */
export { stockSync } from './stock-sync';
export { priceSync } from './price-sync';
