/**
 * Payload encryption end to end, on a real Temporal dev server with its Web UI: a stock sync and
 * a price sync run through the hub with `temporal.encryption` on, the first under the key
 * 2025-07, the second after the active key rotated to 2026-01.
 *
 * Canary values go where a run's payloads carry operator-visible text: the start's memo, summary
 * and details (the hub's own payloads hold cursors, batch ids and counts, never records; their
 * encryption is checked payload by payload). The ERP's data holds the canaries too (a product
 * renamed, its price 987.65), so they pass through the runs' activities. Then:
 *
 * - the raw history of every workflow in the namespace (the server's bytes, as
 *   getWorkflowExecutionHistory returns them) contains none of the canaries, and every payload in
 *   it but the search attributes (the server must read those) is `binary/encrypted`;
 * - decoded with the codec, the same histories contain them (with both keys: rotation);
 * - the Web UI of the dev server, started with `--ui-codec-endpoint` pointing at the codec
 *   endpoint, shows the canary decoded on the run's page (Chromium, headless; a screenshot is
 *   kept in the test's folder); with the endpoint unreachable it does not.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DatabaseSync } from '@photostructure/sqlite';
import { chromium } from 'playwright-core';
import type { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { createLogger, temporalLoggerFor } from '../../observability/logger';
import { startCodecServer, type CodecServer } from '../../temporal/codec-server';
import { connectClient, connectWorkerConnection } from '../../temporal/connection';
import { startTemporalDevServer, type TemporalDevServer } from '../../temporal/dev-server';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, payloadCodecOf, type EncryptionCodec } from '../../temporal/payload-codec';
import { syncStartOptions, syncWorkflowId } from '../../temporal/sync-starts';
import { temporalTargetFromConfig } from '../../temporal/target';
import { WORKFLOWS_PATH, createHubWorkers } from '../../worker';
import { priceSync } from '../../workflows/price-sync';
import { stockSync } from '../../workflows/stock-sync';
import { createHubFixture, TEST_SHOPIFY_TOKEN, type HubFixture } from '../support/hub-fixture';
import { installQuietRuntime, testServerExecutable } from '../support/temporal';

const CHROMIUM = '/usr/bin/chromium';
const CANARY = {
  sku: 'CANARY-SKU-7Q4X',
  productName: 'Kanarek Zolty 7Q4X',
  customer: 'Zofia Kanarkowska, ul. Testowa 9, 00-950 Warszawa',
  price: '987.65',
};
const CANARY_TEXTS = Object.values(CANARY);
const KEYS = { '2025-07': randomBytes(32).toString('base64'), '2026-01': randomBytes(32).toString('hex') };
const STOCK_SYNC = 'erp-stock-to-shopify';
const PRICE_SYNC = 'erp-prices-to-shopify';
const NAMESPACE = 'default';
const logger = createLogger({ level: 'warn' });

/** The fixture's config with `temporal.encryption`, its keys by reference, `activeKeyId` as given. */
function withEncryption(fixture: HubFixture, activeKeyId: keyof typeof KEYS): LoadedConfig {
  const document = YAML.parse(readFileSync(fixture.configFile, 'utf8')) as { temporal: Record<string, unknown> };
  document.temporal.encryption = {
    activeKeyId,
    keys: { '2025-07': '${env:OMNISYNC_PAYLOAD_KEY_2025_07}', '2026-01': '${file:./payload-key-2026-01}' },
  };
  writeFileSync(join(fixture.dir, 'payload-key-2026-01'), `${KEYS['2026-01']}\n`);
  const file = join(fixture.dir, `omnisync-${activeKeyId}.yaml`);
  writeFileSync(file, YAML.stringify(document));
  return parseConfig(readFileSync(file, 'utf8'), file, { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: TEST_SHOPIFY_TOKEN, OMNISYNC_PAYLOAD_KEY_2025_07: KEYS['2025-07'] } });
}

/** Every payload in a message tree (history events), with the field path it was found under. */
function payloadsIn(value: unknown, path = ''): Array<{ path: string; payload: Payload }> {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => payloadsIn(item, `${path}[${index}]`));
  const record = value as Record<string, unknown>;
  const metadata = record.metadata;
  if (metadata !== null && typeof metadata === 'object' && Object.values(metadata).every((v) => v instanceof Uint8Array) && 'data' in record) {
    return [{ path, payload: record as Payload }];
  }
  return Object.entries(record).flatMap(([key, item]) => payloadsIn(item, path === '' ? key : `${path}.${key}`));
}

interface RawHistory {
  workflowId: string;
  runId: string;
  bytes: Buffer;
  events: temporal.api.history.v1.IHistoryEvent[];
}

/** Every workflow run of the namespace, listed raw (client.workflow.list would decode their memos). */
async function allExecutions(client: Client): Promise<Array<{ workflowId: string; runId: string }>> {
  const executions: Array<{ workflowId: string; runId: string }> = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const response = await client.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, pageSize: 1000, ...(nextPageToken === undefined ? {} : { nextPageToken }) });
    for (const info of response.executions ?? []) executions.push({ workflowId: info.execution!.workflowId!, runId: info.execution!.runId! });
    nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
  } while (nextPageToken !== undefined);
  return executions;
}

/** The history of every workflow run in the namespace, as the server holds it. */
async function allHistories(client: Client): Promise<RawHistory[]> {
  const histories: RawHistory[] = [];
  for (const execution of await allExecutions(client)) {
    const chunks: Buffer[] = [];
    const events: temporal.api.history.v1.IHistoryEvent[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const response = await client.workflowService.getWorkflowExecutionHistory({
        namespace: NAMESPACE,
        execution: { workflowId: execution.workflowId, runId: execution.runId },
        ...(nextPageToken === undefined ? {} : { nextPageToken }),
      });
      chunks.push(Buffer.from(temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse.encode(response).finish()));
      events.push(...(response.history?.events ?? []));
      nextPageToken = response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : undefined;
    } while (nextPageToken !== undefined);
    histories.push({ workflowId: execution.workflowId, runId: execution.runId, bytes: Buffer.concat(chunks), events });
  }
  return histories;
}

/** The canaries found in bytes, as UTF-8 text and as the base64 a JSON rendering would show. */
function canariesIn(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const base64 = bytes.toString('base64');
  return CANARY_TEXTS.filter((canary) => text.includes(Buffer.from(canary, 'utf8').toString('latin1')) || base64.includes(Buffer.from(canary).toString('base64').slice(0, 12)));
}

describe('payload encryption end to end', () => {
  let codecServer: CodecServer;
  let server: TemporalDevServer;
  let fixture: HubFixture;
  let bundle: WorkflowBundle;
  let configOld: LoadedConfig;
  let configNew: LoadedConfig;
  let codec: EncryptionCodec;
  const closeLater: Array<() => Promise<unknown>> = [];
  const runs: Array<{ workflowId: string; runId: string }> = [];
  const testDir = mkdtempSync(join(tmpdir(), 'omnisync-payload-encryption-'));

  /** Runs one sync to its end with workers and a client encrypting with `config`'s active key. */
  async function runSync(config: LoadedConfig, entity: 'stock' | 'price'): Promise<void> {
    const connection: NativeConnection = await connectWorkerConnection(temporalTargetFromConfig(config.temporal));
    const workers = await createHubWorkers({ config, logger, connection, workflowBundle: bundle });
    const running = workers.run();
    const { connection: clientConnection, client } = await connectClient(temporalTargetFromConfig(config.temporal));
    try {
      const sync = config.syncs.get(entity === 'stock' ? STOCK_SYNC : PRICE_SYNC)!;
      const options = syncStartOptions(config, sync, 'full');
      const start = {
        ...options,
        workflowId: `${syncWorkflowId(sync, 'full')}:encrypted-${runs.length + 1}`,
        memo: { requestedFor: CANARY.customer, checkSku: CANARY.sku, expectedPrice: CANARY.price },
        staticSummary: `${options.staticSummary}; requested for ${CANARY.customer}`,
        staticDetails: `Check ${CANARY.sku} (${CANARY.productName}) at ${CANARY.price} PLN`,
      };
      const handle = entity === 'stock' ? await client.workflow.start(stockSync, start) : await client.workflow.start(priceSync, start);
      await handle.result();
      runs.push({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
    } finally {
      await clientConnection.close();
      workers.shutdown();
      await running;
      await connection.close();
    }
  }

  beforeAll(async () => {
    installQuietRuntime();
    const executable = await testServerExecutable();
    if (executable.type !== 'existing-path') throw new Error('the Temporal CLI was not found (the global setup provides it)');
    // The endpoint first: the dev server's UI is told where it is when it starts.
    const placeholder = payloadCodecOf({ encryption: { activeKeyId: '2026-01', keys: KEYS } })!;
    codecServer = await startCodecServer({ codec: placeholder, token: randomBytes(18).toString('base64url'), port: 0 });
    closeLater.push(() => codecServer.close());
    server = await startTemporalDevServer({ dataDir: null, port: 0, uiPort: 0, namespace: NAMESPACE, cliPath: executable.path, uiCodecEndpoint: codecServer.uiEndpoint });
    closeLater.push(() => server.stop());
    codecServer.allowOrigins([server.uiUrl]);

    fixture = await createHubFixture({ temporalAddress: server.address, products: 60, pageSize: 50, priceSync: { name: PRICE_SYNC } });
    closeLater.push(() => fixture.close());
    // The ERP's data carries the canaries too: they pass through the runs' activities.
    const erp = new DatabaseSync(fixture.erpFile, { timeout: 5000 });
    erp.prepare('update towary set nazwa = ? where indeks = ?').run(CANARY.productName, 'PL-000007');
    erp.prepare('update ceny set brutto = ? where towar_id = (select id from towary where indeks = ?) and cennik_id = 1').run(CANARY.price, 'PL-000007');
    erp.close();

    configOld = withEncryption(fixture, '2025-07');
    configNew = withEncryption(fixture, '2026-01');
    codec = payloadCodecOf(configNew.temporal)!;
    bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: temporalLoggerFor(logger) });

    await runSync(configOld, 'stock');
    // The active key rotates; the stock run's history stays readable with the old key kept.
    await runSync(configNew, 'price');
  }, 300_000);

  afterAll(async () => {
    for (const close of closeLater.reverse()) await close().catch(() => undefined);
  });

  it('no canary appears in plaintext in any workflow history of the namespace; every payload but search attributes is encrypted', async () => {
    const { connection, client }: { connection: Connection; client: Client } = await connectClient({ address: server.address, namespace: NAMESPACE });
    try {
      const histories = await allHistories(client);
      expect(histories.map((h) => h.workflowId)).toEqual(expect.arrayContaining(runs.map((run) => run.workflowId)));
      const keyIds = new Set<string>();
      let encrypted = 0;
      for (const history of histories) {
        expect(canariesIn(history.bytes), `${history.workflowId} ${history.runId}`).toEqual([]);
        for (const { path, payload } of payloadsIn(history.events)) {
          if (/searchAttributes\.indexedFields/.test(path)) continue;
          const encoding = new TextDecoder().decode(payload.metadata!.encoding!);
          expect(encoding, `${history.workflowId}: ${path}`).toBe(ENCRYPTED_ENCODING);
          keyIds.add(new TextDecoder().decode(payload.metadata![KEY_ID_METADATA]!));
          encrypted++;
        }
      }
      expect(encrypted).toBeGreaterThan(20);
      expect([...keyIds].sort()).toEqual(['2025-07', '2026-01']);
    } finally {
      await connection.close();
    }
  });

  it('decoded with the codec (old and new key), the histories hold the canaries', async () => {
    const { connection, client } = await connectClient({ address: server.address, namespace: NAMESPACE });
    try {
      const histories = await allHistories(client);
      for (const run of runs) {
        const history = histories.find((h) => h.workflowId === run.workflowId && h.runId === run.runId)!;
        const payloads = payloadsIn(history.events).filter(({ path }) => !/searchAttributes/.test(path));
        const decoded = await codec.decode(payloads.map(({ payload }) => payload));
        const text = decoded.map((payload) => Buffer.from(payload.data ?? []).toString('utf8')).join('\n');
        for (const canary of [CANARY.customer, CANARY.sku, CANARY.price, CANARY.productName]) expect(text, run.workflowId).toContain(canary);
        // The hub's own payloads decode to what the workflow saw: its input names the sync.
        expect(text).toContain('"mode":"full"');
      }
    } finally {
      await connection.close();
    }
  });

  it.skipIf(!existsSync(CHROMIUM))('the Web UI shows the canary decoded through the codec endpoint, and not without it (Chromium at /usr/bin/chromium)', async () => {
    const run = runs[1]!;
    const url = `${server.uiUrl}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(run.workflowId)}/${run.runId}/history`;
    const context = await chromium.launchPersistentContext(mkdtempSync(join(testDir, 'chromium-profile-')), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1600, height: 1200 },
    });
    try {
      const page = await context.newPage();
      await page.goto(url);
      // The run's input, decoded: the page asked the endpoint.
      await page.getByText('"syncName": "erp-prices-to-shopify"').first().waitFor({ timeout: 45_000 });
      // The Memo tab shows the start's memo, decoded.
      await page.getByText('Memo', { exact: true }).first().click();
      await page.getByText(CANARY.customer).first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(testDir, 'ui-with-codec.png'), fullPage: true });
      const decoded = await page.locator('body').innerText();
      for (const canary of [CANARY.customer, CANARY.sku, CANARY.price]) expect(decoded).toContain(canary);

      // Without the endpoint (every call to it fails), the same page shows no canary.
      const blind = await context.newPage();
      await blind.route(`${codecServer.url}/**`, (route) => route.abort());
      await blind.goto(url);
      await blind.getByText('Codec Server could not connect').filter({ visible: true }).first().waitFor({ timeout: 45_000 });
      await blind.getByText('Memo', { exact: true }).first().click();
      await blind.waitForTimeout(3_000);
      await blind.screenshot({ path: join(testDir, 'ui-without-codec.png'), fullPage: true });
      const text = await blind.locator('body').innerText();
      for (const canary of CANARY_TEXTS) expect(text).not.toContain(canary);
    } finally {
      await context.close();
    }
  }, 120_000);
});
