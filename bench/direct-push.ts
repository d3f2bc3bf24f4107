/**
 * The baseline bench:stock measures omnisync against: the stock push an IT team would write by
 * hand, without Temporal, a state store, staging or a quarantine. One ERP query for all stock,
 * the same mapping arithmetic, SKUs resolved from a ready map (as omnisync's preloaded
 * crosswalk), `inventorySetQuantities` with 250 quantities per call, four calls in flight,
 * paced by the same leaky-bucket model. Run in the same invocation as omnisync's push against a
 * simulator of its own, it turns the benchmark's figure into a ratio that survives a change of
 * machine: both are bound by the same CPU and the same throttle.
 *
 *   tsx bench/direct-push.ts --erp <erp.sqlite> --url <simulator> --token <t> --restore-rate 1000 --bucket 1000 --mapping <file>
 *
 * Prints one JSON line: items pushed, seconds, requests, THROTTLED answers, and the CPU seconds
 * the push used, from the ERP read to the last answer (like omnisync's worker, whose start is
 * not counted either).
 */
import { readFileSync } from 'node:fs';
import { DatabaseSync } from '@photostructure/sqlite';
import YAML from 'yaml';
import { directPushArgs, sendPacedCalls } from './direct-shopify';
import { SET_QUANTITIES_COST, SET_QUANTITIES_MUTATION } from '../connectors/shopify/operations';
import { computeTargetStock, StockMapping } from '../core/stock-mapping';
import type { StockLevel, StockUpdate } from '../core/model';

const ITEMS_PER_CALL = 250;
const CALLS_IN_FLIGHT = 4;

async function main(): Promise<void> {
  const { erpFile, shopUrl, file, restoreRate, bucketSize, url, headers } = directPushArgs('mapping');
  const mapping = StockMapping.parse(YAML.parse(readFileSync(file, 'utf8')));

  const inventory = (await (await fetch(`${shopUrl}/_sandbox/inventory`, { headers })).json()) as { items: Array<{ sku: string; inventoryItemId: string }> };
  const itemIdBySku = new Map(inventory.items.map((item) => [item.sku, item.inventoryItemId]));

  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const erp = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  const skus = (erp.prepare('select indeks as sku from towary order by id').all() as Array<{ sku: string }>).map((row) => row.sku);
  const levels = (
    erp
      .prepare('select t.indeks as sku, m.symbol as location, s.ilosc as onHand, s.zarezerwowano as reserved from stany s join towary t on t.id = s.towar_id join magazyny m on m.id = s.magazyn_id')
      .all() as Array<{ sku: string; location: string; onHand: number; reserved: number }>
  ).map((row): StockLevel => ({ sku: row.sku, location: row.location, onHand: Math.floor(row.onHand), reserved: Math.ceil(row.reserved ?? 0), at: '' }));
  erp.close();
  const updates = computeTargetStock(skus, levels, mapping).updates.filter((update) => itemIdBySku.has(update.sku));

  const calls: StockUpdate[][] = [];
  for (let start = 0; start < updates.length; start += ITEMS_PER_CALL) calls.push(updates.slice(start, start + ITEMS_PER_CALL));
  const { requests, throttled } = await sendPacedCalls({
    url,
    headers,
    restoreRate,
    bucketSize,
    cost: SET_QUANTITIES_COST,
    callsInFlight: CALLS_IN_FLIGHT,
    calls,
    body: (call, index) => ({
      query: SET_QUANTITIES_MUTATION,
      variables: {
        input: {
          name: 'available',
          reason: 'correction',
          referenceDocumentUri: 'direct://bench',
          quantities: call.map((u) => ({ inventoryItemId: itemIdBySku.get(u.sku)!, locationId: u.location, quantity: u.quantity, changeFromQuantity: null })),
        },
        idempotencyKey: `direct-${index}`,
      },
    }),
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(`${JSON.stringify({ items: updates.length, seconds, requests, throttled, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`direct push failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
