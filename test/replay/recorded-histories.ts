/**
 * The histories test/histories/record.ts records, loaded for the replay tests:
 * `<entity>-sync-<run>-<n>.json`, the n-th execution (from 1) of a recorded run's continue-as-new
 * chain. Any other .json file there is an error, so a misnamed file cannot go unreplayed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = resolve(__dirname, '../histories');

/** The runs record.ts records per entity, the sync they ran and their workflow type. */
const RECORDED = {
  stock: { sync: 'erp-stock-to-shopify', workflowType: 'stockSync', runs: ['full', 'delta'] },
  price: { sync: 'erp-prices-to-shopify', workflowType: 'priceSync', runs: ['held', 'promotion'] },
} as const;

export type RecordedEntity = keyof typeof RECORDED;

/** stock-sync-<full|delta>-<n>.json, price-sync-<held|promotion>-<n>.json. */
export const HISTORY_FILE = /^(stock|price)-sync-([a-z]+)-([1-9]\d*)\.json$/;

export interface RecordedHistory {
  file: string;
  entity: RecordedEntity;
  /** The run's kind: the mode of a stock run; held or promotion for a price run. */
  run: string;
  /** Which execution of the run's chain, from 1. */
  execution: number;
  /** The id the run was recorded under (record.ts's recordedWorkflowId); the workflows do not read it. */
  workflowId: string;
  history: History;
}

/**
 * `historyFromJSON` from '@temporalio/common/lib/proto-utils', done with the protobufjs copy that
 * built the proto root. In this install npm nests one protobufjs 8 under @temporalio/common and
 * another under @temporalio/proto (the top level holds grpc's protobufjs 7), and protojson's
 * `instanceof Type` check fails across copies ("type must be a Type"). For the same reason the
 * histories are handed to the replay worker decoded: given JSON it would call historyFromJSON.
 */
function historyFromJson(json: unknown): History {
  // Loaded with require, as the SDK does: vitest's ESM view of the CJS module hides the root.
  const require = createRequire(__filename);
  const proto: unknown = require('@temporalio/proto');
  const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as { patchProtobufRoot(root: unknown): { lookupType(name: string): unknown } };
  const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as {
    fromJson(type: unknown, json: unknown, options?: object): History | null;
  };
  const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (history === null) throw new TypeError('not a history');
  return history;
}

/** Every recorded history of `entity`, in file name order; throws on a file record.ts does not write. */
export function loadHistories(entity: RecordedEntity): RecordedHistory[] {
  const loaded: RecordedHistory[] = [];
  for (const file of readdirSync(HISTORIES_DIR).filter((name) => name.endsWith('.json')).sort()) {
    const match = HISTORY_FILE.exec(file);
    const recorded = match ? RECORDED[match[1] as RecordedEntity] : undefined;
    if (!match || !recorded || !(recorded.runs as readonly string[]).includes(match[2]!)) {
      throw new Error(`test/histories/${file}: not a name record.ts writes (stock-sync-<full|delta>-<n>.json, price-sync-<held|promotion>-<n>.json)`);
    }
    if (match[1] !== entity) continue;
    const history = historyFromJson(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    const workflowType = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (workflowType !== recorded.workflowType) throw new Error(`test/histories/${file}: a ${String(workflowType)} history, expected ${recorded.workflowType}`);
    const run = match[2]!;
    loaded.push({ file, entity, run, execution: Number(match[3]), workflowId: `${entity}-sync:${recorded.sync}:${run}:recorded`, history });
  }
  return loaded;
}

/** How many events of a history carry attributes `key` (e.g. 'timerStartedEventAttributes'). */
export function eventsWith(history: History, key: string): number {
  return (history.events ?? []).filter((event) => (event as Record<string, unknown>)[key] != null).length;
}
