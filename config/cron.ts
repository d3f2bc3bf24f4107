/**
 * Cron expressions of sync schedules, checked as Temporal's server will read them.
 *
 * The server parses a schedule's `cronExpressions` only when `schedules apply` (or `omnisync
 * dev`) sends them, so a typo found there would stop an apply half-way. The config loader
 * therefore checks every expression completely. The parsing is croner's (maintained, no
 * dependencies, and with a strict 5-field mode); this module adds only the rules where Temporal
 * is stricter than croner, and words croner's errors in the config's terms.
 *
 * Accepted: `minute hour day-of-month month day-of-week` with numbers, `*`, ranges (`1-5`),
 * lists (`1,15`), steps (`1-10/2`, or `/5` after a star), month names JAN-DEC and weekday names
 * SUN-SAT; or one of the macros @hourly, @daily (@midnight), @weekly, @monthly, @yearly
 * (@annually).
 *
 * Refused, although croner alone would take some of them:
 * - 6 and 7 fields: croner reads a 6th field as seconds in front, Temporal as the year at the
 *   end, so the same text would mean two different schedules;
 * - croner's extensions L, W, #, ? and + (Temporal has none of them);
 * - macros in another letter case (`@Daily`: Temporal compares them exactly), and `@every`
 *   (an interval, not a cron expression);
 * - expressions that match no date at all (`0 0 31 2 *`), which Temporal would take and never
 *   run.
 *
 * As in Temporal, a day of month and a day of week that are both restricted must both match
 * (`0 0 1 * MON`: the 1st of a month that is a Monday), unlike Vixie cron's "either".
 */
import { Cron, CronPattern } from 'croner';

/** The macros Temporal expands, exactly as it compares them. */
export const CRON_MACROS: readonly string[] = ['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually'];

const FIELDS = [
  { name: 'minute', allowed: '0-59' },
  { name: 'hour', allowed: '0-23' },
  { name: 'day of month', allowed: '1-31' },
  { name: 'month', allowed: '1-12 or JAN-DEC' },
  { name: 'day of week', allowed: '0-6 or SUN-SAT' },
] as const;

/** croner's field names (its errors name them) → ours, with the offset croner subtracted. */
const CRONER_FIELDS: Record<string, { field: (typeof FIELDS)[number]; offset: number }> = {
  minute: { field: FIELDS[0], offset: 0 },
  hour: { field: FIELDS[1], offset: 0 },
  day: { field: FIELDS[2], offset: 1 },
  month: { field: FIELDS[3], offset: 1 },
  dayOfWeek: { field: FIELDS[4], offset: 0 },
};

/** Characters of croner extensions Temporal does not parse (`?` wildcard, `#` nth weekday, `+` AND). */
const UNSUPPORTED_CHARACTERS = /[?#+]/g;

/**
 * Why `expression` is not a cron expression Temporal schedules accept, or undefined when it is.
 * The message starts with the expression: `"61 * * * *" is not a valid cron expression: …`.
 */
export function cronProblem(expression: string): string | undefined {
  const reason = cronReason(expression);
  return reason === undefined ? undefined : `${JSON.stringify(expression)} is not a valid cron expression: ${reason}`;
}

function cronReason(expression: string): string | undefined {
  if (expression.trim().startsWith('@')) {
    if (CRON_MACROS.includes(expression)) return undefined;
    return 'unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)';
  }
  const fields = expression.trim() === '' ? [] : expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) {
    const extra = fields.length === 6 || fields.length === 7 ? '; a seconds or year field is not supported' : '';
    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}${extra}`;
  }
  for (const [index, text] of fields.entries()) {
    const unsupported = [...new Set(text.match(UNSUPPORTED_CHARACTERS))];
    if (unsupported.length > 0) return notSupported(FIELDS[index]!, text, unsupported);
  }
  let pattern: CronPattern;
  try {
    // '5-part': a 6th field is never taken for seconds.
    pattern = new CronPattern(expression, undefined, { mode: '5-part' });
  } catch (err) {
    return cronerReason(err instanceof Error ? err.message : String(err), fields);
  }
  // L and W parse as flags of the days (letters in names such as JUL or WED must not count).
  const [, , dayOfMonth, , dayOfWeek] = FIELDS;
  if (pattern.lastDayOfMonth || pattern.lastWeekday) return notSupported(dayOfMonth, fields[2]!, pattern.lastWeekday ? ['L', 'W'] : ['L']);
  if (pattern.nearestWeekdays.some(Boolean)) return notSupported(dayOfMonth, fields[2]!, ['W']);
  // croner marks a plain weekday 63 (every occurrence in the month); anything else is L or #.
  if (pattern.dayOfWeek.some((bits) => bits !== 0 && bits !== 63)) return notSupported(dayOfWeek, fields[4]!, ['L']);
  // domAndDow: a day of month and a day of week must both match, as Temporal reads them.
  if (new Cron(expression, { mode: '5-part', domAndDow: true }).nextRun() === null) return 'it matches no date, so it would never run';
  return undefined;
}

function notSupported(field: (typeof FIELDS)[number], text: string, what: readonly string[]): string {
  return `${field.name} "${text}": ${what.join(' and ')} ${what.length === 1 ? 'is' : 'are'} not supported by Temporal schedules`;
}

/** croner's message, in the config's terms (field names, 1-based days and months). */
function cronerReason(message: string, fields: readonly string[]): string {
  const text = message.replace(/^CronPattern: /, '');
  const value = /^Invalid value for (\w+): (-?\d+)/.exec(text);
  const known = value && CRONER_FIELDS[value[1]!];
  if (value && known) return `${known.field.name} ${Number(value[2]) + known.offset} is out of range (allowed: ${known.field.allowed})`;
  const empty = /^configuration entry (\w+) \(.*\) is empty/.exec(text);
  const emptyIn = empty && CRONER_FIELDS[empty[1]!];
  if (empty && emptyIn) return `${emptyIn.field.name} "${fields[FIELDS.indexOf(emptyIn.field)]}" has an empty list item`;
  // croner numbers the fields from a seconds field, which the 5-field form leaves out.
  const illegal = /^configuration entry (\d) \(.*\) contains illegal characters/.exec(text);
  const index = illegal ? Number(illegal[1]) - 1 : -1;
  const field = FIELDS[index];
  if (field) return `${field.name} "${fields[index]}" contains characters that are not allowed (expected ${field.allowed}, *, ranges, lists and steps)`;
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * When a valid expression next fires after `after`, in UTC as Temporal schedules read it, or
 * undefined when it never does. For runs that must know when the schedule takes over (prices
 * wait for a promotion only when it starts before the next scheduled run).
 */
export function nextCronTime(expression: string, after: Date): Date | undefined {
  return new Cron(expression, { mode: '5-part', domAndDow: true, timezone: 'UTC' }).nextRun(after) ?? undefined;
}
