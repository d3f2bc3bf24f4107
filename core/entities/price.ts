/**
 * The price entity: what the hub computes, compares and keeps for prices, as pure functions.
 *
 * - The mapping file (`entity: price`) gives each target channel its rules (core/price-rules.ts)
 *   and the price lists whose entries are promotions, and the sync its anomaly guard
 *   (core/price-guard.ts).
 * - `computeChannelPrices` turns the price list entries of a page of SKUs into the price each
 *   channel should show at a moment, and says when the next entry starts or ends (the moment a
 *   promotion must be applied or reverted).
 * - A channel's price is kept in the snapshot as canonical text (`priceValueText`): the amount,
 *   the compare-at amount and the currency, so an unchanged price is never pushed again.
 * - `lowestPriorPrice` reads the price history for the EU Omnibus rule: the lowest price the
 *   channel showed in the 30 days before a reduction.
 *
 * Which entry applies: at the moment `at`, among the entries valid then (validFrom inclusive,
 * validTo exclusive):
 *  1. the channel's regular list (`priceList`): of several valid entries, the one that started
 *     last wins (a dated entry overrides an open-ended one; ERPs add a new dated row rather than
 *     edit the old one), and of entries that started at the same moment, the one whose channel
 *     price is lowest (compared as the channel shows them, not as the ERP wrote them);
 *  2. a promotion list (`promotionPriceLists`), when one of its valid entries gives a channel
 *     price below the regular one: the lowest such price wins, and the regular price as the
 *     channel shows it (floors and all) becomes the compare-at ("was") price. A promotion at or
 *     above the regular price is not applied: a promotion that raises a price is a data error.
 */
import { z } from 'zod';
import { PriceGuardRules } from '../price-guard';
import { ChannelPriceRules, channelPrice, type ChannelPriceResult, type PriceListEntry } from '../price-rules';
import { Dec, type Money } from '../money';
import { QUARANTINE_CATEGORY } from '../quarantine-categories';
import type { RejectedRecord } from '../model';
import { defineEntity } from './spec';

export const PRICE_ENTITY = 'price';

/** Days before a reduction whose lowest price the EU Omnibus rule asks for. */
export const OMNIBUS_DAYS = 30;

const PromotionPriceLists = z.array(z.string().trim().min(1, 'expected a price list code, not an empty one')).default([]);

/**
 * One channel's rules, plus the price lists whose valid entries are promotions. Both parts are
 * checked and every problem of either is reported, with its path.
 */
export const PriceChannel = z.looseObject({}).transform((value, ctx) => {
  const { promotionPriceLists: rawLists, ...rest } = value;
  const lists = PromotionPriceLists.safeParse(rawLists, { reportInput: true });
  const rules = ChannelPriceRules.safeParse(rest, { reportInput: true });
  if (!lists.success) for (const issue of lists.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: ['promotionPriceLists', ...issue.path] });
  if (!rules.success) for (const issue of rules.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path });
  if (!lists.success || !rules.success) return z.NEVER;
  return { ...rules.data, promotionPriceLists: lists.data };
});
export type PriceChannel = z.output<typeof PriceChannel>;

export const PriceMapping = z.strictObject({
  entity: z.literal('price'),
  /** Rules per target connector id: every target of the sync needs one. */
  channels: z.record(z.string().min(1), PriceChannel),
  /** The anomaly guard (core/price-guard.ts). Default: its defaults. */
  guard: PriceGuardRules.default(PriceGuardRules.parse({})),
  /**
   * Hours a run with held changes waits for an operator's decision; after that the held changes
   * lapse (nothing of them is pushed, as after a rejection) and the run ends. Default 24; at most
   * 6 days, below the week for which staged batches (what an approval pushes) are kept.
   */
  holdTimeoutHours: z.number().positive().max(24 * 6).default(24),
});
export type PriceMapping = z.infer<typeof PriceMapping>;

/** Problems between the mapping and the sync (every target has rules, lists do not clash). */
export function checkPriceMapping(mapping: PriceMapping, targets: readonly string[]): string[] {
  const problems: string[] = [];
  for (const target of targets) {
    if (!Object.hasOwn(mapping.channels, target)) problems.push(`channels: no rules for target "${target}" of the sync (every target needs its channel rules)`);
  }
  for (const [channel, rules] of Object.entries(mapping.channels)) {
    if (!targets.includes(channel)) problems.push(`channels.${channel}: "${channel}" is not a target of the sync (targets: ${targets.join(', ')})`);
    rules.promotionPriceLists.forEach((list, index) => {
      if (list === rules.priceList) problems.push(`channels.${channel}.promotionPriceLists[${index}]: "${list}" is the channel's own price list`);
    });
  }
  return problems;
}

/** Every price list a mapping reads (regular, promotion and compare-at lists of all channels). */
export function priceListsOf(mapping: PriceMapping): string[] {
  const lists = new Set<string>();
  for (const rules of Object.values(mapping.channels)) {
    lists.add(rules.priceList);
    for (const list of rules.promotionPriceLists) lists.add(list);
    if (rules.compareAtPrice.source === 'priceList') lists.add(rules.compareAtPrice.priceList);
  }
  return [...lists].sort();
}

/** The price a channel should show for one SKU. */
export interface ChannelPrice {
  sku: string;
  price: Money;
  /** The "was" price; null: none. */
  compareAt: Money | null;
  /** Net price and cost for the guard. */
  net: Money;
  cost?: Money;
  /** The entry's price list (a promotion's list when one applies). */
  priceList: string;
}

export interface ChannelPricesResult {
  prices: ChannelPrice[];
  /** SKUs with entries that give no price (each with its reason): quarantined. */
  rejected: RejectedRecord[];
  /** The earliest validFrom or validTo after `at` among the entries: when prices change next. */
  nextChangeAt?: string;
}

/**
 * The prices one channel should show at `at` for the SKUs of `entries` (every entry of each SKU
 * from the lists the channel reads). SKUs without a valid entry of the channel's list get no
 * price (nothing is pushed for them); a SKU whose entries cannot be computed is rejected.
 */
export function computeChannelPrices(entries: readonly PriceListEntry[], channel: PriceChannel, channelId: string, at: string): ChannelPricesResult {
  const atMs = Date.parse(at);
  const bySku = new Map<string, PriceListEntry[]>();
  let nextChange: number | undefined;
  const lists = new Set([channel.priceList, ...channel.promotionPriceLists, ...(channel.compareAtPrice.source === 'priceList' ? [channel.compareAtPrice.priceList] : [])]);
  for (const entry of entries) {
    if (!lists.has(entry.priceList)) continue;
    const group = bySku.get(entry.sku);
    if (group === undefined) bySku.set(entry.sku, [entry]);
    else group.push(entry);
    for (const boundary of [entry.validFrom, entry.validTo]) {
      if (boundary === undefined) continue;
      const ms = Date.parse(boundary);
      if (ms > atMs && (nextChange === undefined || ms < nextChange)) nextChange = ms;
    }
  }
  const prices: ChannelPrice[] = [];
  const rejected: RejectedRecord[] = [];
  for (const [sku, group] of bySku) {
    const result = priceOfSku(sku, group, channel, at, atMs);
    if (result === undefined) continue;
    if ('reason' in result) {
      rejected.push({
        recordKey: `${sku}|${channelId}`,
        reason: `price for ${channelId}: ${result.reason}`,
        category: QUARANTINE_CATEGORY.uncomputablePrice,
        subject: sku,
        payload: { sku, channel: channelId, entries: group },
      });
    } else {
      prices.push(result);
    }
  }
  return nextChange === undefined ? { prices, rejected } : { prices, rejected, nextChangeAt: new Date(nextChange).toISOString() };
}

function priceOfSku(sku: string, entries: readonly PriceListEntry[], channel: PriceChannel, at: string, atMs: number): ChannelPrice | { reason: string } | undefined {
  const valid = entries.filter((entry) => isValidAt(entry, atMs));
  const compareAtList = channel.compareAtPrice.source === 'priceList' ? channel.compareAtPrice.priceList : undefined;
  const compareAtEntries = compareAtList === undefined ? [] : startedLast(valid.filter((e) => e.priceList === compareAtList));
  const regular = lowestPrice(startedLast(valid.filter((entry) => entry.priceList === channel.priceList)), (entry) => {
    // Of several compare-at entries that started together, the one giving the highest "was".
    const withCompareAt = compareAtEntries.map((compareAtEntry) => channelPrice(entry, channel, { at, compareAtEntry }));
    const best = withCompareAt.filter((r) => r.ok).sort((a, b) => compareMoney(b.compareAt, a.compareAt))[0];
    return best ?? withCompareAt[0] ?? channelPrice(entry, channel, { at });
  });
  if (regular === undefined) return undefined;
  if (!regular.result.ok) return { reason: `${regular.entry.priceList}: ${regular.result.reason}` };

  const shown = regular.result;
  let best: ChannelPrice = { sku, price: shown.price, compareAt: shown.compareAt ?? null, net: shown.net, priceList: regular.entry.priceList, ...(shown.cost === undefined ? {} : { cost: shown.cost }) };
  for (const list of channel.promotionPriceLists) {
    for (const entry of valid.filter((e) => e.priceList === list)) {
      // The promotion through the channel's rules (floors included); its "was" price is the
      // regular price as the channel shows it, floors and all.
      const promotion = channelPrice(entry, { ...channel, priceList: list, compareAtPrice: { source: 'none' } }, { at });
      if (!promotion.ok) return { reason: `${list}: ${promotion.reason}` };
      if (!new Dec(promotion.price.amount).lessThan(best.price.amount)) continue;
      best = { sku, price: promotion.price, compareAt: shown.price, net: promotion.net, priceList: list, ...(promotion.cost === undefined ? {} : { cost: promotion.cost }) };
    }
  }
  return best;
}

function isValidAt(entry: PriceListEntry, atMs: number): boolean {
  if (entry.validFrom !== undefined && !(Date.parse(entry.validFrom) <= atMs)) return false;
  if (entry.validTo !== undefined && !(atMs < Date.parse(entry.validTo))) return false;
  return true;
}

/** Of several valid entries of one list, those that started last (a dated entry overrides an open-ended one). */
function startedLast(entries: readonly PriceListEntry[]): PriceListEntry[] {
  const start = (entry: PriceListEntry) => (entry.validFrom === undefined ? -Infinity : Date.parse(entry.validFrom));
  const latest = Math.max(...entries.map(start));
  return entries.filter((entry) => start(entry) === latest);
}

/**
 * Of entries that started together, the one whose channel price is lowest (compared as the
 * channel shows them, after VAT, conversion and rules); an entry that gives no price loses to
 * one that does, and when none does, the first one's reason is kept.
 */
function lowestPrice(entries: readonly PriceListEntry[], price: (entry: PriceListEntry) => ChannelPriceResult): { entry: PriceListEntry; result: ChannelPriceResult } | undefined {
  let best: { entry: PriceListEntry; result: ChannelPriceResult } | undefined;
  for (const entry of entries) {
    const result = price(entry);
    if (best === undefined || (result.ok && (!best.result.ok || new Dec(result.price.amount).lessThan(best.result.price.amount)))) best = { entry, result };
  }
  return best;
}

/** Orders optional amounts of one currency: absent first. */
function compareMoney(a: Money | undefined, b: Money | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return new Dec(a.amount).comparedTo(b.amount);
}

/** The canonical snapshot text of a channel price: equal texts mean an equal price on the channel. */
export function priceValueText(price: Pick<ChannelPrice, 'price' | 'compareAt'>): string {
  return JSON.stringify([price.price.currency, price.price.amount, price.compareAt?.amount ?? null]);
}

/** A snapshot text back as price and compare-at; undefined when it is not one. */
export function parsePriceValueText(text: string): { price: Money; compareAt: Money | null } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [currency, amount, compareAt] = value as unknown[];
    if (typeof currency !== 'string' || typeof amount !== 'string' || (compareAt !== null && typeof compareAt !== 'string')) return undefined;
    return { price: { amount, currency }, compareAt: compareAt === null ? null : { amount: compareAt, currency } };
  } catch {
    return undefined;
  }
}

/** One price a channel showed from `since` on (the hub's price history). */
export interface PriceHistoryPoint {
  since: string;
  amount: string;
  currency: string;
}

/**
 * The lowest price the channel showed in the `days` days before `at` (EU Omnibus), from its
 * history: the price in effect when the window opened and every price since, up to `at`.
 * Undefined when the history has nothing in the window (a SKU never pushed before).
 */
export function lowestPriorPrice(history: readonly PriceHistoryPoint[], at: string, days = OMNIBUS_DAYS): Money | undefined {
  const atMs = Date.parse(at);
  const fromMs = atMs - days * 24 * 60 * 60 * 1000;
  const ordered = [...history].sort((a, b) => Date.parse(a.since) - Date.parse(b.since));
  let lowest: PriceHistoryPoint | undefined;
  ordered.forEach((point, index) => {
    const start = Date.parse(point.since);
    const end = index + 1 < ordered.length ? Date.parse(ordered[index + 1]!.since) : Infinity;
    // Shown during [start, end): it counts when that overlaps [from, at).
    if (start >= atMs || end <= fromMs) return;
    if (lowest === undefined || new Dec(point.amount).lessThan(lowest.amount)) lowest = point;
  });
  return lowest === undefined ? undefined : { amount: lowest.amount, currency: lowest.currency };
}

export const priceEntity = defineEntity<PriceMapping>({
  entity: PRICE_ENTITY,
  readCapability: 'price.read',
  writeCapability: 'price.write',
  workflowType: 'priceSync',
  // A delta read sees entries whose row changed, not entries whose validity starts or ends:
  // every price run reads every entry, and pushes only what differs from the snapshot.
  modes: ['full'],
  modesNote: 'price syncs run full (a promotion starts or ends without any row changing, so only a full read sees it; only changed prices are pushed)',
  mappingSchema: PriceMapping,
  checkMapping: (mapping, sync) => checkPriceMapping(mapping, sync.targets),
  itemsPerRecord: () => 0,
});
