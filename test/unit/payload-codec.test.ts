/**
 * Payload encryption (temporal/payload-codec.ts) and its config (`temporal.encryption`): round
 * trip, key rotation, tampering, unknown key ids, keys of the wrong length, secrets by reference.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
// Not a dependency of ours (the SDK's): it checks the hand-written Payload message encoding.
import { temporal } from '@temporalio/proto';
import { ConfigError, parseConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  decodePayloadMessage,
  encodePayloadMessage,
  payloadCodecOf,
} from '../../temporal/payload-codec';
import { DEMO_CONNECTORS_YAML } from '../support/config-text';

const utf8 = new TextDecoder();
const KEY_2025 = randomBytes(32);
const KEY_2026 = randomBytes(32);
const CANARY = { sku: 'CANARY-SKU-7Q4X', customer: 'Zofia Kanarkowska, ul. Testowa 9', price: '987.65' };

function payloadOf(value: unknown): Payload {
  return defaultPayloadConverter.toPayload(value);
}

function valueOf(payload: Payload): unknown {
  return defaultPayloadConverter.fromPayload(payload);
}

const bytesOf = (payload: Payload) => Buffer.concat([...Object.values(payload.metadata ?? {}).map((v) => Buffer.from(v ?? [])), Buffer.from(payload.data ?? [])]).toString('latin1');

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec(new Map([['2026-01', KEY_2026]]), '2026-01');

  it('round trip: encodes to ciphertext labelled with the key id, decodes to the same payload', async () => {
    const original = payloadOf(CANARY);
    const [encrypted] = await codec.encode([original]);
    expect(utf8.decode(encrypted!.metadata!.encoding!)).toBe(ENCRYPTED_ENCODING);
    expect(utf8.decode(encrypted!.metadata![KEY_ID_METADATA]!)).toBe('2026-01');
    for (const canary of Object.values(CANARY)) expect(bytesOf(encrypted!)).not.toContain(canary);
    const [decoded] = await codec.decode([encrypted!]);
    expect(valueOf(decoded!)).toEqual(CANARY);
    expect(utf8.decode(decoded!.metadata!.encoding!)).toBe('json/plain');
  });

  it('round trip of payloads without data, binary data and many metadata entries', async () => {
    const payloads: Payload[] = [
      payloadOf(undefined),
      payloadOf(null),
      { metadata: { encoding: new TextEncoder().encode('binary/plain'), a: new Uint8Array(), b: new Uint8Array([0, 255, 128]) }, data: randomBytes(70_000) },
    ];
    const decoded = await codec.decode(await codec.encode(payloads));
    expect(decoded.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) }))).toEqual(payloads.map((p) => ({ metadata: p.metadata, data: Buffer.from(p.data ?? []) })));
  });

  it('writes the Payload protobuf message as @temporalio/proto does', () => {
    const payload = { metadata: { encoding: new TextEncoder().encode('json/plain'), 'x-long': randomBytes(300) }, data: randomBytes(1000) };
    const ours = encodePayloadMessage(payload);
    expect(Buffer.from(ours)).toEqual(Buffer.from(temporal.api.common.v1.Payload.encode(payload).finish()));
    const theirs = temporal.api.common.v1.Payload.decode(ours);
    expect(Buffer.from(theirs.data!)).toEqual(payload.data);
    expect(decodePayloadMessage(temporal.api.common.v1.Payload.encode(payload).finish())).toEqual({ metadata: { encoding: payload.metadata.encoding, 'x-long': Uint8Array.from(payload.metadata['x-long']) }, data: Uint8Array.from(payload.data) });
  });

  it('each encoding uses a fresh IV: the same value encrypts differently every time', async () => {
    const [a, b] = await codec.encode([payloadOf(CANARY), payloadOf(CANARY)]);
    expect(Buffer.from(a!.data!)).not.toEqual(Buffer.from(b!.data!));
  });

  it('rotation: a payload encrypted with the old key decodes after the active key changed', async () => {
    const before = new EncryptionCodec(new Map([['2025-07', KEY_2025]]), '2025-07');
    const after = new EncryptionCodec(new Map([['2025-07', KEY_2025], ['2026-01', KEY_2026]]), '2026-01');
    const [old] = await before.encode([payloadOf(CANARY)]);
    const [fresh] = await after.encode([payloadOf(CANARY)]);
    expect(utf8.decode(fresh!.metadata![KEY_ID_METADATA]!)).toBe('2026-01');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map(valueOf)).toEqual([CANARY, CANARY]);
  });

  it('passes a payload that is not encrypted (recorded before encryption was on) through unchanged', async () => {
    const plain = payloadOf(CANARY);
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('detects tampering: a flipped bit of the ciphertext, the tag or the IV fails authentication', async () => {
    const [encrypted] = await codec.encode([payloadOf(CANARY)]);
    const data = encrypted!.data!;
    for (const at of [0, 20, data.length - 1]) {
      const altered = Uint8Array.from(data);
      altered[at]! ^= 0x01;
      await expect(codec.decode([{ ...encrypted!, data: altered }])).rejects.toThrow(
        'encrypted payload (key id "2026-01") failed authentication: it was altered, or the key configured as "2026-01" is not the one it was encrypted with',
      );
    }
    await expect(codec.decode([{ ...encrypted!, data: data.subarray(0, 10) }])).rejects.toThrow(/too short/);
  });

  it('a payload relabelled with another configured key id fails authentication (the key id is authenticated)', async () => {
    const both = new EncryptionCodec(new Map([['2025-07', KEY_2025], ['2026-01', KEY_2026]]), '2026-01');
    const [encrypted] = await both.encode([payloadOf(CANARY)]);
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('2025-07') } };
    await expect(both.decode([relabelled])).rejects.toThrow(/key id "2025-07"\) failed authentication/);
  });

  it('an unknown key id fails with the id and the ids it holds', async () => {
    const [encrypted] = await new EncryptionCodec(new Map([['2024-01', KEY_2025]]), '2024-01').encode([payloadOf(CANARY)]);
    const error = await codec.decode([encrypted!]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect((error as Error).message).toBe(
      'payload encrypted with key id "2024-01", which temporal.encryption.keys does not hold (it holds: 2026-01); keep a retired key under its id for as long as histories encrypted with it are read',
    );
  });

  it('refuses a key that is not 32 bytes, and an active key id it does not hold', () => {
    expect(() => new EncryptionCodec(new Map([['short', randomBytes(16)]]), 'short')).toThrow('payload key "short" is 16 bytes; AES-256 needs 32');
    expect(() => new EncryptionCodec(new Map([['a', KEY_2026]]), 'b')).toThrow('active payload key "b" is not among the keys (a)');
  });
});

describe('temporal.encryption in the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omnisync-encryption-config-'));
  const text = (encryption: string) => `temporal:\n  encryption:\n${encryption}\n${DEMO_CONNECTORS_YAML}`;
  const load = (encryption: string, env: NodeJS.ProcessEnv) => parseConfig(text(encryption), join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_x', ...env } });
  const problemsOf = (encryption: string, env: NodeJS.ProcessEnv): string[] => {
    try {
      load(encryption, env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };
  const TWO_KEYS = `    activeKeyId: "2026"\n    keys:\n      "2025": \${env:OMNISYNC_PAYLOAD_KEY_2025}\n      "2026": \${env:OMNISYNC_PAYLOAD_KEY_2026}`;

  it('reads keys by reference, base64 or hex, and builds a codec that decodes with either', async () => {
    const config = load(TWO_KEYS, { OMNISYNC_PAYLOAD_KEY_2025: KEY_2025.toString('hex'), OMNISYNC_PAYLOAD_KEY_2026: KEY_2026.toString('base64') });
    const codec = payloadCodecOf(config.temporal)!;
    expect(codec.activeKeyId).toBe('2026');
    const old = await new EncryptionCodec(new Map([['2025', KEY_2025]]), '2025').encode([payloadOf(CANARY)]);
    expect((await codec.decode(old)).map(valueOf)).toEqual([CANARY]);
    // The keys are secrets: the logger scrubs them.
    expect(config.secretValues).toEqual(expect.arrayContaining([KEY_2025.toString('hex'), KEY_2026.toString('base64')]));
    expect(payloadCodecOf(load('    activeKeyId: a\n    keys: { a: "${env:K}" }', { K: KEY_2026.toString('base64') }).temporal)).toBeDefined();
  });

  it('no encryption section: no codec', () => {
    const config = parseConfig(DEMO_CONNECTORS_YAML, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_x' } });
    expect(payloadCodecOf(config.temporal)).toBeUndefined();
  });

  it('a key of the wrong length is a config problem that says how to write one, without quoting it', () => {
    const short = randomBytes(16);
    const problems = problemsOf(TWO_KEYS, { OMNISYNC_PAYLOAD_KEY_2025: short.toString('hex'), OMNISYNC_PAYLOAD_KEY_2026: randomBytes(24).toString('base64') });
    expect(problems).toEqual([
      'temporal.encryption.keys.2025: expected a 32-byte key (AES-256), written as 64 hex digits or as 44 base64 characters (e.g. from `openssl rand -base64 32`); it is 32 hex digits (16 bytes)',
      'temporal.encryption.keys.2026: expected a 32-byte key (AES-256), written as 64 hex digits or as 44 base64 characters (e.g. from `openssl rand -base64 32`); it is base64 of 24 bytes',
    ]);
    expect(problems.join('\n')).not.toContain(short.toString('hex'));
    expect(problemsOf(TWO_KEYS, { OMNISYNC_PAYLOAD_KEY_2025: 'not a key at all!', OMNISYNC_PAYLOAD_KEY_2026: KEY_2026.toString('hex') })).toEqual([
      'temporal.encryption.keys.2025: expected a 32-byte key (AES-256), written as 64 hex digits or as 44 base64 characters (e.g. from `openssl rand -base64 32`); it is 17 characters, neither hex nor base64',
    ]);
  });

  it('keys and the codec token are secrets: inline values are refused, unset references named', () => {
    expect(problemsOf(`    activeKeyId: a\n    keys: { a: ${KEY_2026.toString('hex')} }\n    codecServer: { token: abc }`, {})).toEqual([
      'temporal.encryption.keys.a: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
      'temporal.encryption.codecServer.token: secrets must be given by reference (${env:NAME} or ${file:path}), not inline',
    ]);
    expect(problemsOf(TWO_KEYS, { OMNISYNC_PAYLOAD_KEY_2026: KEY_2026.toString('hex') })).toEqual(['temporal.encryption.keys.2025: environment variable OMNISYNC_PAYLOAD_KEY_2025 is not set']);
  });

  it('the active key id must be one of the keys', () => {
    expect(problemsOf('    activeKeyId: "2027"\n    keys: { "2026": "${env:K}" }', { K: KEY_2026.toString('hex') })).toEqual(['temporal.encryption.activeKeyId: "2027" is not one of temporal.encryption.keys (2026)']);
  });
});
