/**
 * The price anomaly guard: changes of channel prices that look like a data error are held for an
 * operator instead of pushed. A decimal point typed one place too far left in the ERP must not
 * sell a whole catalogue at a tenth of its price before anyone looks.
 *
 * Per change, the first rule it breaks holds it, in this order: a currency that changes (prices
 * in two currencies cannot be compared), a drop above `maxDropPercent`, a rise above
 * `maxRisePercent`, a net price below cost (`belowCost: hold`). A change at exactly a limit
 * passes: a limit says how much is allowed.
 *
 * Per run: when more prices change than `maxChangedShare` (of the channel's catalogue) or
 * `maxChangedCount` allow, every change of the run is held, because a mass change is more likely
 * a wrong price list or column than many right prices. Only changes of an existing price count:
 * a new price (no previous one) is a listing, not a change, or the first run could never pass.
 * The share is of the catalogue (the prices the channel holds), not of the prices read, so a
 * delta run that reads only changed prices is measured as a full run is.
 */
import { z } from 'zod';
import { Dec, formatMoney, parseDecimal, type Money, type Parsed } from './money';

/**
 * Thresholds are numbers, not decimal strings: they are compared with, never computed into a
 * price, and `maxDropPercent: 50` reads better in YAML than a quoted "50".
 */
export const PriceGuardRules = z.strictObject({
  /** Largest drop of a price in percent of the previous one. Default 50: sales rarely go deeper; a misplaced decimal point does (90 %). */
  maxDropPercent: z.number().min(0).max(100).default(50),
  /** Largest rise in percent of the previous price. Default 200 (three times the price): a misplaced point rises 900 %. */
  maxRisePercent: z.number().min(0).default(200),
  /**
   * A change whose new net price is below the cost. `hold` (default): nearly always a wrong
   * cost or price, and every sale loses money. `allow`: for clearance sales below cost.
   */
  belowCost: z.enum(['hold', 'allow']).default('hold'),
  /**
   * Largest share of the channel's catalogue whose price changes in one run, in percent.
   * Default 10: a routine price list update touches a few products; a repricing of everything is
   * worth a look before it is live.
   */
  maxChangedShare: z.number().min(0).max(100).default(10),
  /** Largest number of prices that change in one run. Default none: the share scales with the catalogue. */
  maxChangedCount: z.number().int().min(0).optional(),
});
export type PriceGuardRules = z.infer<typeof PriceGuardRules>;

/** One price about to be pushed to a channel. */
export interface PriceChange {
  sku: string;
  channel: string;
  /** The price last pushed to the channel. Absent: a new price. */
  previous?: Money;
  /** The price to push, on the channel's basis (gross or net). */
  next: Money;
  /** The new price without VAT when `next` includes VAT (channelPrice's `net`). Absent: `next` is net. */
  nextNet?: Money;
  /** Purchase price without VAT, in the channel's currency (channelPrice's `cost`). Absent: not checked against cost. */
  cost?: Money;
}

export interface RunContext {
  /** Prices the channel holds (the last pushed snapshot), the base of `maxChangedShare`. 0: the share is not checked. */
  catalogueSize: number;
}

export interface HeldPriceChange {
  change: PriceChange;
  /** Its own reason when it breaks a rule, otherwise the run's. */
  reason: string;
}

export interface PriceGuardVerdict {
  /** Changes to push. */
  passed: PriceChange[];
  /** Changes held for an operator, each with one reason. */
  held: HeldPriceChange[];
  /** Why the whole run is held, when it is. */
  runHeld?: string;
}

/** Which changes of a run pass and which are held, and why. Pure: the same changes give the same verdict. */
export function guardPriceChanges(changes: readonly PriceChange[], rules: PriceGuardRules, run: RunContext): PriceGuardVerdict {
  const reasons = changes.map((change) => changeProblem(change, rules));
  const changed = changes.filter((change, index) => reasons[index]!.changed).length;
  const runHeld = runProblem(changed, rules, run);
  const passed: PriceChange[] = [];
  const held: HeldPriceChange[] = [];
  changes.forEach((change, index) => {
    const reason = reasons[index]!.reason ?? runHeld;
    if (reason === undefined) passed.push(change);
    else held.push({ change, reason });
  });
  return runHeld === undefined ? { passed, held } : { passed, held, runHeld };
}

/** Why one change is held (if it is), and whether it changes an existing price. */
function changeProblem(change: PriceChange, rules: PriceGuardRules): { reason?: string; changed: boolean } {
  const next = readAmount(change.next, 'the new price');
  if (!next.ok) return { reason: next.reason, changed: true };
  let changed = false;
  if (change.previous !== undefined) {
    if (change.previous.currency !== change.next.currency) {
      return { reason: `currency changes (${formatMoney(change.previous)} → ${formatMoney(change.next)}); prices in two currencies cannot be compared`, changed: true };
    }
    const previous = readAmount(change.previous, 'the previous price');
    if (!previous.ok) return { reason: previous.reason, changed: true };
    // An unchanged price pushes nothing new, so there is nothing to hold.
    if (previous.value.equals(next.value)) return { changed: false };
    changed = true;
    const pair = `${change.previous.amount} → ${change.next.amount} ${change.next.currency}`;
    if (previous.value.lessThanOrEqualTo(0)) {
      if (next.value.greaterThan(previous.value)) return { reason: `price rises from ${formatMoney(change.previous)} (${pair}), more than any percentage allowed`, changed };
    } else {
      const percent = next.value.minus(previous.value).dividedBy(previous.value).times(100);
      if (percent.negated().greaterThan(rules.maxDropPercent)) {
        return { reason: `price drops ${percentAbove(percent.negated(), rules.maxDropPercent)} % (${pair}), more than the ${rules.maxDropPercent} % allowed`, changed };
      }
      if (percent.greaterThan(rules.maxRisePercent)) {
        return { reason: `price rises ${percentAbove(percent, rules.maxRisePercent)} % (${pair}), more than the ${rules.maxRisePercent} % allowed`, changed };
      }
    }
  }
  if (rules.belowCost === 'hold' && change.cost !== undefined) {
    const net = change.nextNet ?? change.next;
    if (change.cost.currency !== net.currency) return { reason: `cost ${formatMoney(change.cost)} and net price ${formatMoney(net)} are in two currencies and cannot be compared`, changed };
    const netValue = readAmount(net, 'the new net price');
    if (!netValue.ok) return { reason: netValue.reason, changed };
    const cost = readAmount(change.cost, 'the cost');
    if (!cost.ok) return { reason: cost.reason, changed };
    if (netValue.value.lessThan(cost.value)) return { reason: `net price ${formatMoney(net)} is below cost ${formatMoney(change.cost)}`, changed };
  }
  return { changed };
}

function runProblem(changed: number, rules: PriceGuardRules, run: RunContext): string | undefined {
  if (run.catalogueSize > 0) {
    const share = new Dec(changed).dividedBy(run.catalogueSize).times(100);
    if (share.greaterThan(rules.maxChangedShare)) {
      return `${groupThousands(changed)} of ${groupThousands(run.catalogueSize)} prices change (${percentAbove(share, rules.maxChangedShare)} %), more than the ${rules.maxChangedShare} % allowed in one run`;
    }
  }
  if (rules.maxChangedCount !== undefined && changed > rules.maxChangedCount) {
    return `${groupThousands(changed)} prices change, more than the ${groupThousands(rules.maxChangedCount)} allowed in one run`;
  }
  return undefined;
}

function readAmount(money: Money, what: string): Parsed<Dec> {
  return parseDecimal(money.amount, `${what}'s amount`);
}

/**
 * A percentage above `limit`, half up to one decimal (89.9992 → "90.0"), or to more where one
 * would not show it above the limit (50.01 % against 50 % reads "50.01", not "50.0").
 */
function percentAbove(percent: Dec, limit: number): string {
  for (let digits = 1; digits <= 6; digits++) {
    const shown = percent.toDecimalPlaces(digits, Dec.ROUND_HALF_UP);
    if (shown.greaterThan(limit)) return shown.toFixed(digits);
  }
  return percent.toFixed();
}

/** 1200 → "1,200": counts in messages, independent of the machine's locale. */
function groupThousands(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
