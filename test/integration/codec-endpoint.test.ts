/**
 * The remote codec endpoint (temporal/codec-server.ts) over HTTP, as the Temporal Web UI and CLI
 * call it: POST …/encode and …/decode with protobuf-JSON Payloads, the token as a bearer or in
 * the path, CORS for the UI's origin only, and precise refusals.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { startCodecServer, type CodecServer } from '../../temporal/codec-server';
import { EncryptionCodec } from '../../temporal/payload-codec';

const TOKEN = 'codec-test-token/with+odd=chars';
const UI_ORIGIN = 'http://127.0.0.1:18233';
const CANARY = { customer: 'Zofia Kanarkowska', price: '987.65' };
const codec = new EncryptionCodec(new Map([['k1', randomBytes(32)]]), 'k1');

const asJson = (payloads: Array<{ metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }>) => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  })),
});

describe('codec endpoint', () => {
  let server: CodecServer;
  beforeAll(async () => {
    server = await startCodecServer({ codec, token: TOKEN, port: 0, corsOrigins: [UI_ORIGIN] });
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: JSON.stringify(body) });

  it('encodes and decodes Payloads JSON with a bearer token', async () => {
    const plain = asJson([defaultPayloadConverter.toPayload(CANARY)]);
    const encoded = await post('/encode', plain, { Authorization: `Bearer ${TOKEN}` });
    expect(encoded.status).toBe(200);
    const encrypted = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(encrypted.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted.payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');
    expect(JSON.stringify(encrypted)).not.toContain(Buffer.from('Kanarkowska').toString('base64').slice(0, 8));
    // Mounted under any prefix: only the last segment names the operation.
    const decoded = await post('/default/decode', encrypted, { Authorization: `Bearer ${TOKEN}` });
    expect(decoded.status).toBe(200);
    expect(await decoded.json()).toEqual(plain);
  });

  it('accepts the token as the path before the operation (the Web UI cannot send a bearer token)', async () => {
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(CANARY)]);
    const response = await fetch(`${server.uiEndpoint}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: UI_ORIGIN }, body: JSON.stringify(asJson([encrypted!])) });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const body = (await response.json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(body.payloads[0]!.data, 'base64').toString())).toEqual(CANARY);
  });

  it('answers 401 without the token, with a wrong one, and with the token as a mere prefix', async () => {
    const body = asJson([]);
    for (const [path, headers] of [
      ['/decode', {}],
      ['/decode', { Authorization: 'Bearer wrong' }],
      ['/decode', { Authorization: `Basic ${TOKEN}` }],
      ['/wrong/decode', {}],
      [`/${encodeURIComponent(TOKEN)}x/decode`, {}],
      ['/encode', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ] as const) {
      const response = await post(path, body, headers);
      expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(await response.json()).toEqual({ message: 'missing or wrong token (Authorization: Bearer <token>)' });
    }
  });

  it('answers the CORS preflight for the UI origin (X-Namespace, Authorization), refuses other origins', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    const allowed = await preflight(UI_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toBe('Content-Type, X-Namespace, Authorization');
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    const refused = await preflight('http://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    server.allowOrigins(['http://localhost:18233']);
    expect((await preflight('http://localhost:18233')).status).toBe(204);
  });

  it('refuses what it cannot decode with 400 and the reason; unknown paths 404, other methods 405', async () => {
    const [foreign] = await new EncryptionCodec(new Map([['k0', randomBytes(32)]]), 'k0').encode([defaultPayloadConverter.toPayload(CANARY)]);
    const unknownKey = await post('/decode', asJson([foreign!]), { Authorization: `Bearer ${TOKEN}` });
    expect(unknownKey.status).toBe(400);
    expect(((await unknownKey.json()) as { message: string }).message).toMatch(/^payload encrypted with key id "k0", which temporal\.encryption\.keys does not hold \(it holds: k1\)/);
    const notJson = await fetch(`${server.url}/decode`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{' });
    expect(notJson.status).toBe(400);
    const badBase64 = await post('/decode', { payloads: [{ metadata: { encoding: '***' } }] }, { Authorization: `Bearer ${TOKEN}` });
    expect(await badBase64.json()).toEqual({ message: 'payloads[0].metadata.encoding: expected base64 text' });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${server.url}/decode`)).status).toBe(405);
  });
});
