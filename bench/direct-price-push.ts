/**
 * The baseline bench:prices measures omnisync against: the price push an IT team would write by
 * hand, without Temporal, a state store, staging, a guard or a quarantine. One ERP query for the
 * regular retail list's gross prices (DETAL, the rows valid now), SKUs → variant and product from
 * a ready map (as omnisync's preloaded crosswalk), one `productVariantsBulkUpdate` per product
 * (one variant each), four calls in flight, paced by the same leaky-bucket model (CostPacer) as
 * bench/direct-push.ts. Run in the same invocation as omnisync's price run against a simulator of
 * its own, it turns the benchmark's figure into a ratio that survives a change of machine.
 *
 *   tsx bench/direct-price-push.ts --erp <erp.sqlite> --url <simulator> --token <t> --restore-rate 1000 --bucket 1000 --variants <map.json>
 *
 * `--variants`: a JSON object, SKU → {"variant": gid, "product": gid}. SKUs the map lacks (the
 * shop does not list them) are left out, as a script written against a known catalogue would.
 * Unlike omnisync, it writes no EU Omnibus metafield and no compare-at price: the price alone.
 *
 * Prints one JSON line: items pushed, seconds, requests, THROTTLED answers, and the CPU seconds
 * the push used, from the ERP read to the last answer (like omnisync's worker, whose start is
 * not counted either). Any user error fails the script: the benchmark's prices are all valid.
 */
import { readFileSync } from 'node:fs';
import { DatabaseSync } from '@photostructure/sqlite';
import { directPushArgs, sendPacedCalls } from './direct-shopify';
import { PRICE_UPDATE_COST, PRICE_UPDATE_MUTATION } from '../connectors/shopify/operations';

const CALLS_IN_FLIGHT = 4;
const PRICE_LIST = 'DETAL';

interface PriceCall {
  productId: string;
  variantId: string;
  price: string;
}

async function main(): Promise<void> {
  const { erpFile, file, restoreRate, bucketSize, url, headers } = directPushArgs('variants');
  const refs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { variant: string; product: string }>;
  const refBySku = new Map(Object.entries(refs));

  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const now = new Date().toISOString();
  const erp = new DatabaseSync(erpFile, { readOnly: true, timeout: 5000 });
  const rows = erp
    .prepare(
      `select t.indeks as sku, c.brutto as gross
       from ceny c join towary t on t.id = c.towar_id join cenniki l on l.id = c.cennik_id
       where l.symbol = ? and (c.data_od is null or c.data_od <= ?) and (c.data_do is null or c.data_do > ?)
       order by t.id`,
    )
    .all(PRICE_LIST, now, now) as Array<{ sku: string; gross: number | string }>;
  erp.close();
  const calls: PriceCall[] = [];
  for (const row of rows) {
    const ref = refBySku.get(row.sku);
    if (ref === undefined) continue;
    calls.push({ productId: ref.product, variantId: ref.variant, price: Number(row.gross).toFixed(2) });
  }

  const { requests, throttled } = await sendPacedCalls({
    url,
    headers,
    restoreRate,
    bucketSize,
    cost: PRICE_UPDATE_COST,
    callsInFlight: CALLS_IN_FLIGHT,
    calls,
    body: (call) => ({ query: PRICE_UPDATE_MUTATION, variables: { productId: call.productId, variants: [{ id: call.variantId, price: call.price }] } }),
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(`${JSON.stringify({ items: calls.length, seconds, requests, throttled, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`direct price push failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
