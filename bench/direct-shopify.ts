/**
 * The one loop both hand-written baselines (direct-push.ts, direct-price-push.ts) send their
 * Shopify calls with: a few calls in flight, each paced by the leaky-bucket model of the
 * shop's cost limits, a THROTTLED answer waited out and sent again. What an IT team would write
 * once and use for every mutation.
 */
import { parseArgs } from 'node:util';
import { CostPacer } from '../connectors/shopify/cost-pacer';

interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

interface GraphqlAnswer {
  data?: Record<string, { userErrors?: Array<{ message: string }> } | null>;
  errors?: Array<{ extensions?: { code?: string } }>;
  extensions?: { cost?: { actualQueryCost?: number; throttleStatus: ThrottleStatus } };
}

export interface PacedCallsOptions<Call> {
  /** The shop's GraphQL endpoint and the headers of every request (token, content type). */
  url: string;
  headers: Record<string, string>;
  restoreRate: number;
  bucketSize: number;
  /** Points one call may cost (what the pacer reserves; the unused part is refunded). */
  cost: number;
  callsInFlight: number;
  calls: readonly Call[];
  /** The request body of a call: the mutation and its variables. */
  body(call: Call, index: number): unknown;
}

/** Sends every call; throws on the first that fails other than by being throttled. */
export async function sendPacedCalls<Call>(options: PacedCallsOptions<Call>): Promise<{ requests: number; throttled: number }> {
  const pacer = new CostPacer({ restoreRate: options.restoreRate, bucketSize: options.bucketSize });
  let requests = 0;
  let throttled = 0;
  let next = 0;
  const send = async (call: Call, index: number): Promise<void> => {
    for (;;) {
      await pacer.acquire(options.cost);
      requests++;
      const response = await fetch(options.url, { method: 'POST', headers: options.headers, body: JSON.stringify(options.body(call, index)) });
      const answer = (await response.json()) as GraphqlAnswer;
      const cost = answer.extensions?.cost;
      if (cost) {
        pacer.refund(options.cost - (cost.actualQueryCost ?? 0));
        pacer.observe(cost.throttleStatus);
      }
      if (answer.errors?.some((error) => error.extensions?.code === 'THROTTLED')) {
        throttled++;
        await new Promise((resolve) => setTimeout(resolve, pacer.waitFor(options.cost, cost?.throttleStatus.currentlyAvailable ?? 0)));
        continue;
      }
      const userErrors = Object.values(answer.data ?? {}).flatMap((result) => result?.userErrors ?? []);
      if (!response.ok || answer.errors || userErrors.length > 0) {
        throw new Error(`call ${index} failed: HTTP ${response.status} ${JSON.stringify(answer.errors ?? userErrors)}`);
      }
      return;
    }
  };
  const lane = async () => {
    while (next < options.calls.length) {
      const index = next++;
      await send(options.calls[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: options.callsInFlight }, lane));
  return { requests, throttled };
}

/**
 * The command line both baselines take: the ERP file, the simulator's URL and token, its
 * restore rate and bucket, and one file of their own (`fileOption`: the mapping, the variant
 * ids). Returns them with the shop's GraphQL URL and request headers.
 */
export function directPushArgs(fileOption: string) {
  const { values } = parseArgs({
    options: {
      erp: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      'restore-rate': { type: 'string' },
      bucket: { type: 'string' },
      [fileOption]: { type: 'string' },
    },
  });
  const text = (name: string): string => {
    const value = values[name];
    if (typeof value !== 'string') throw new Error(`--${name} is required`);
    return value;
  };
  return {
    erpFile: text('erp'),
    shopUrl: text('url'),
    file: text(fileOption),
    restoreRate: Number(text('restore-rate')),
    bucketSize: Number(text('bucket')),
    url: `${text('url')}/admin/api/2026-04/graphql.json`,
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': text('token') },
  };
}

