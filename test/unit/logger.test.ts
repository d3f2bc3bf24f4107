import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { createLogger, defaultLogFormat, temporalLoggerFor } from '../../observability/logger';
import { describeFailure } from '../../observability/failures';
import { shopifyManifest } from '../../connectors/shopify';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('on a terminal, one readable line per event with its fields, secrets scrubbed as in JSON', () => {
    let text = '';
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination, format: 'pretty', secretValues: ['shpat_secret_token'] });
    logger.info({ syncName: 'erp-stock-to-shopify', pushed: 38, config: { accessToken: 'x' } }, 'sync erp-stock-to-shopify (delta) done: token shpat_secret_token');
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d{2}:\d{2}:\d{2}\] INFO: sync erp-stock-to-shopify \(delta\) done: token \[REDACTED\] .*"syncName":"erp-stock-to-shopify".*"pushed":38/);
    expect(text).not.toContain('shpat_secret_token');
    expect(text).toContain('"accessToken":"[REDACTED]"');
  });

  it('writes JSON unless told otherwise: to a destination always, to stdout per LOG_FORMAT or the terminal', () => {
    expect(defaultLogFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(defaultLogFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(defaultLogFormat({}, true)).toBe('pretty');
    expect(defaultLogFormat({}, false)).toBe('json');
  });

  it('redacts secret fields by name, and the secret headers connectors declare', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'info', destination, secretHeaders: shopifyManifest.secretHeaders });
    logger.info({ config: { accessToken: 'shpat_abc', shopUrl: 'https://x' }, headers: { 'x-shopify-access-token': 'shpat_abc' } }, 'connecting');
    expect(lines[0]!.config).toEqual({ accessToken: '[REDACTED]', shopUrl: 'https://x' });
    expect(lines[0]!.headers).toEqual({ 'x-shopify-access-token': '[REDACTED]' });
  });

  it('scrubs resolved secret values wherever they appear, messages and errors included', () => {
    const { lines, destination } = capture();
    const secret = 'postgres://omnisync:s3cr3t-pass@db:5432/hub';
    const logger = createLogger({ level: 'info', destination, secretValues: [secret] });
    logger.error({ err: new Error(`cannot connect to ${secret}`), detail: { note: `url=${secret}` } }, `failed: ${secret}`);
    const line = JSON.stringify(lines[0]);
    expect(line).not.toContain('s3cr3t-pass');
    expect(lines[0]!.msg).toBe('failed: [REDACTED]');
    expect((lines[0]!.detail as { note: string }).note).toBe('url=[REDACTED]');
  });

  it('routes Temporal SDK logs into the same stream with their metadata', () => {
    const { lines, destination } = capture();
    const temporal = temporalLoggerFor(createLogger({ level: 'info', destination }));
    temporal.warn('Activity failed', { workflowId: 'stock-sync:x:delta', activityType: 'pushStockBatch' });
    expect(lines[0]).toMatchObject({ level: 'warn', component: 'temporal', workflowId: 'stock-sync:x:delta', activityType: 'pushStockBatch', msg: 'Activity failed' });
  });

  it("carries a failure's whole chain in Temporal's log lines, not an empty error object", () => {
    const { lines, destination } = capture();
    const cause = ApplicationFailure.create({ message: 'erp-sql: table "stany_missing" does not exist (configured at tables.stock.table)', type: 'OmnisyncConfigError', nonRetryable: true });
    const failure = new ActivityFailure('Activity task failed', 'stageStockPage', '3', RetryState.NON_RETRYABLE_FAILURE, 'worker-1', cause);
    temporalLoggerFor(createLogger({ level: 'info', destination })).warn('Activity failed', { error: failure, attempt: 1 });
    expect(lines[0]).toMatchObject({
      msg: 'Activity failed',
      attempt: 1,
      error: {
        failure: 'activity stageStockPage failed (not retryable): OmnisyncConfigError: erp-sql: table "stany_missing" does not exist (configured at tables.stock.table)',
        failureType: 'OmnisyncConfigError',
        nonRetryable: true,
      },
    });
    expect(describeFailure(new Error('Workflow execution failed', { cause: failure }))).toBe(lines[0]!.error && (lines[0]!.error as { failure: string }).failure);
  });
});
