import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TypedSearchAttributes } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OMNISYNC_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { createTestEnvironment } from '../support/temporal';
import type { greet } from './fixtures/workflows';

describe('createTestEnvironment', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTestEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('registers every omnisync search attribute with its type', async () => {
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    const registered = Object.fromEntries(
      Object.entries(customAttributes ?? {}).map(([name, type]) => [
        name,
        // Proto enums decode to numbers: map to 'INDEXED_VALUE_TYPE_KEYWORD' etc. first.
        TypedSearchAttributes.toSearchAttributeType(temporal.api.enums.v1.IndexedValueType[type] ?? String(type)),
      ]),
    );
    for (const key of OMNISYNC_SEARCH_ATTRIBUTES) {
      expect(registered[key.name], key.name).toBe(key.type);
    }
  });

  it('runs a workflow on a worker bundled from workflowsPath', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'workflows.ts'),
    });
    const result = await worker.runUntil(
      env.client.workflow.execute<typeof greet>('greet', { taskQueue, workflowId: `greet-${randomUUID()}`, args: ['omnisync'] }),
    );
    expect(result).toBe('hello omnisync');
  });
});
