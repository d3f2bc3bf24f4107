/**
 * Sales and returns a store POS reports by webhook, and how omnisync checks and reads them.
 *
 * The POS (the sandbox's simulator, or a real one speaking this contract) POSTs one event per
 * receipt to `/webhooks/<source id>`:
 *
 *   POST /webhooks/pos
 *   Content-Type: application/json
 *   X-POS-Signature: sha256=<hex HMAC-SHA256 of the raw body with the source's secret>
 *
 *   { "eventId": "evt-7f3a…", "type": "sale", "storeId": "SKLEP-KRK",
 *     "occurredAt": "2026-12-02T10:02:13.000Z", "receipt": "KRK/2026/004711",
 *     "lines": [{ "sku": "PL-000001", "quantity": 2 }] }
 *
 * Each line becomes a stock movement of the store (core/location-stock.ts): a sale takes the
 * quantity off on hand, a return puts it back. The movement id is the event id and the line's
 * index, so a delivery repeated by the POS counts once; the event's own time places a till that
 * uploads hours later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SkuCode } from '../../core/model';
import { quantityFromDecimalText } from '../../core/quantity';
import type { LocatedStockMovement } from '../../state/store';

export const POS_SIGNATURE_HEADER = 'x-pos-signature';
const SIGNATURE_PREFIX = 'sha256=';

/** Lines one receipt may carry; a larger body is refused before parsing (the receiver's body limit). */
export const MAX_POS_EVENT_LINES = 1_000;

const Quantity = z
  .number()
  .positive()
  .finite()
  .refine((value) => quantityFromDecimalText(String(value)).ok, 'has more than 15 significant digits');

export const PosStockEvent = z.strictObject({
  /** Unique per event at the POS; a repeated delivery carries the same id. */
  eventId: z.string().trim().min(1).max(200),
  type: z.enum(['sale', 'return']),
  /** The store's location code, as the stock mapping's sources name it. */
  storeId: z.string().trim().min(1).max(64),
  /** When the till recorded it: ISO-8601 with a time zone. */
  occurredAt: z.iso.datetime({ offset: true }),
  receipt: z.string().max(200).optional(),
  lines: z.array(z.strictObject({ sku: SkuCode, quantity: Quantity })).min(1).max(MAX_POS_EVENT_LINES),
});
export type PosStockEvent = z.infer<typeof PosStockEvent>;

/** The signature header's value for a body: what the POS sends, and what tests and the simulator compute. */
export function posSignature(rawBody: Buffer | string, secret: string): string {
  return `${SIGNATURE_PREFIX}${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** Whether the header carries the body's signature under the secret; compared in constant time. */
export function hasValidPosSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (header === undefined || !header.startsWith(SIGNATURE_PREFIX)) return false;
  const given = Buffer.from(header.slice(SIGNATURE_PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The event's lines as movements of its store. */
export function movementsOfPosEvent(event: PosStockEvent): LocatedStockMovement[] {
  const at = new Date(event.occurredAt).toISOString();
  const sign = event.type === 'sale' ? -1 : 1;
  return event.lines.map((line, index) => ({ id: `${event.eventId}:${index}`, sku: line.sku, location: event.storeId, delta: sign * line.quantity, at }));
}
