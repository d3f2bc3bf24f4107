/**
 * Custom search attributes: how operators find omnisync workflows in the Temporal UI
 * (e.g. `OmnisyncSyncName = "erp-stock-to-shopify"`). Names are stable ids: renaming one breaks
 * saved UI filters and needs a server-side registration. Values are never PII.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Every connector instance the execution talks to (source and targets). */
export const SA_CONNECTOR = defineSearchAttributeKey('OmnisyncConnector', SearchAttributeType.KEYWORD_LIST);
/** The business entity synced: stock, price, order, loyalty. */
export const SA_ENTITY = defineSearchAttributeKey('OmnisyncEntity', SearchAttributeType.KEYWORD);
/** The sync's name from config (`syncs.<name>`). */
export const SA_SYNC_NAME = defineSearchAttributeKey('OmnisyncSyncName', SearchAttributeType.KEYWORD);
/** full | delta. */
export const SA_SYNC_MODE = defineSearchAttributeKey('OmnisyncSyncMode', SearchAttributeType.KEYWORD);

/**
 * What a run waits for, while it waits for a person: `price-guard` while changes the price guard
 * held wait for `omnisync prices approve|reject`. Absent otherwise. Find them with
 * `OmnisyncWaitingFor = "price-guard"`.
 */
export const SA_WAITING_FOR = defineSearchAttributeKey('OmnisyncWaitingFor', SearchAttributeType.KEYWORD);

/** Registered on the Temporal server by the dev-server launcher and the test environment. */
export const OMNISYNC_SEARCH_ATTRIBUTES = [SA_CONNECTOR, SA_ENTITY, SA_SYNC_NAME, SA_SYNC_MODE, SA_WAITING_FOR] as const;
