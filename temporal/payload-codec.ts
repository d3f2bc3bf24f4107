/**
 * Encryption of every workflow and activity payload (inputs, results, heartbeats, queries,
 * signals, updates, memos) before it leaves the process for the Temporal server: AES-256-GCM,
 * keys from config (`temporal.encryption`). The server, its database and anyone reading a
 * history see ciphertext only; workers, the CLI and the codec endpoint of the Web UI
 * (temporal/codec-server.ts) hold the keys.
 *
 * Each encrypted payload names its key in its metadata (`encryption-key-id`), so keys rotate
 * without re-encrypting history: the active key encrypts, every configured key decrypts what
 * names it. A payload that is not encrypted (recorded before encryption was turned on) passes
 * decoding unchanged.
 *
 * Codecs run in the worker's main thread, outside the workflow sandbox: workflow code and its
 * determinism are untouched (a fresh random IV per payload is fine there).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { decodePayloadKey, payloadKeyProblem } from '../config/schema';
import type { LoadedConfig } from '../config/load';

/** The `encoding` metadata of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata entry naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A payload that cannot be decrypted: unknown key id, altered, or not the key it names. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * AES-256-GCM over the whole payload (its metadata too: the original `encoding` says what the
 * data is). Encrypted data is IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes); the key id is
 * authenticated data, so a payload relabelled with another key id fails like an altered one.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;

  /**
   * @param keys key id → 32-byte key
   * @param activeKeyId the key new payloads are encrypted with
   * @throws Error when a key is not 32 bytes or the active key id is not among the keys
   */
  constructor(keys: ReadonlyMap<string, Buffer>, readonly activeKeyId: string) {
    for (const [id, key] of keys) {
      if (key.length !== 32) throw new Error(`payload key "${id}" is ${key.length} bytes; AES-256 needs 32`);
    }
    if (!keys.has(activeKeyId)) throw new Error(`active payload key "${activeKeyId}" is not among the keys (${[...keys.keys()].join(', ') || 'none'})`);
    this.keys = keys;
  }

  /**
   * The codec of the config's `temporal.encryption` (keys resolved from their references: 64 hex
   * digits or base64 of 32 bytes).
   *
   * @throws Error naming the config path of a key that is not 32 bytes (the loader reports it first)
   */
  static fromConfig(encryption: NonNullable<LoadedConfig['temporal']['encryption']>): EncryptionCodec {
    const keys = new Map<string, Buffer>();
    for (const [id, text] of Object.entries(encryption.keys)) {
      const key = decodePayloadKey(text);
      if (key === undefined) throw new Error(`temporal.encryption.keys.${id}: ${payloadKeyProblem(text) ?? 'not a key'}`);
      keys.set(id, key);
    }
    return new EncryptionCodec(keys, encryption.activeKeyId);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.keys.get(keyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(utf8.encode(keyId));
    const plaintext = encodePayloadMessage(payload);
    const data = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(keyId) }, data };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (encoding === undefined || encoding === null || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
    if (keyIdBytes === undefined || keyIdBytes === null) throw new PayloadDecryptionError(`encrypted payload without ${KEY_ID_METADATA} metadata: cannot tell which key decrypts it`);
    const keyId = fromUtf8.decode(keyIdBytes);
    const key = this.keys.get(keyId);
    if (key === undefined) {
      throw new PayloadDecryptionError(
        `payload encrypted with key id "${keyId}", which temporal.encryption.keys does not hold (it holds: ${[...this.keys.keys()].join(', ')}); ` +
          'keep a retired key under its id for as long as histories encrypted with it are read',
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`encrypted payload (key id "${keyId}") is ${data.length} bytes, too short to hold an IV and a tag`);
    const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(keyIdBytes);
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `encrypted payload (key id "${keyId}") failed authentication: it was altered, or the key configured as "${keyId}" is not the one it was encrypted with`,
      );
    }
    return decodePayloadMessage(plaintext);
  }
}

/** The codec of the config's encryption, undefined when payloads are not encrypted. */
export function payloadCodecOf(temporalConfig: Pick<LoadedConfig['temporal'], 'encryption'>): EncryptionCodec | undefined {
  return temporalConfig.encryption === undefined ? undefined : EncryptionCodec.fromConfig(temporalConfig.encryption);
}

/** The data converter of workers and clients: encrypting with the config's keys, or the SDK's default. */
export function dataConverterOf(temporalConfig: Pick<LoadedConfig['temporal'], 'encryption'>): DataConverter | undefined {
  const codec = payloadCodecOf(temporalConfig);
  return codec === undefined ? undefined : { payloadCodecs: [codec] };
}

/*
 * The plaintext is the payload as the Payload protobuf message (temporal.api.common.v1:
 * `map<string, bytes> metadata = 1; bytes data = 2;`), the form other Temporal SDKs' encryption
 * codecs encrypt too. Written here rather than through @temporalio/proto, which is not a direct
 * dependency; the message is two fields.
 */

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A length-delimited field: tag (field number, wire type 2), length, bytes. */
function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(bytes.length)]), bytes]);
}

export function encodePayloadMessage(payload: Payload): Uint8Array {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    parts.push(lengthDelimited(1, Buffer.concat([lengthDelimited(1, utf8.encode(key)), lengthDelimited(2, value ?? new Uint8Array())])));
  }
  if (payload.data !== undefined && payload.data !== null && payload.data.length > 0) parts.push(lengthDelimited(2, payload.data));
  return Buffer.concat(parts);
}

/** Reads a message's fields: number, wire type, and for length-delimited ones their bytes. Skips the value of others. */
function* fields(bytes: Uint8Array): Generator<{ field: number; bytes?: Uint8Array }> {
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (at >= bytes.length) throw new PayloadDecryptionError('decrypted payload is not a Payload message (truncated varint)');
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const tag = readVarint();
    const wireType = tag & 7;
    const field = Math.floor(tag / 8);
    if (wireType === 2) {
      const length = readVarint();
      if (at + length > bytes.length) throw new PayloadDecryptionError('decrypted payload is not a Payload message (field beyond its end)');
      yield { field, bytes: bytes.subarray(at, at + length) };
      at += length;
    } else if (wireType === 0) {
      readVarint();
      yield { field };
    } else if (wireType === 1 || wireType === 5) {
      at += wireType === 1 ? 8 : 4;
      yield { field };
    } else {
      throw new PayloadDecryptionError(`decrypted payload is not a Payload message (wire type ${wireType})`);
    }
  }
}

export function decodePayloadMessage(bytes: Uint8Array): Payload {
  const metadata: Record<string, Uint8Array> = {};
  let data = new Uint8Array();
  for (const { field, bytes: value } of fields(bytes)) {
    if (value === undefined) continue;
    if (field === 1) {
      let key = '';
      let entry = new Uint8Array();
      for (const part of fields(value)) {
        if (part.field === 1 && part.bytes !== undefined) key = fromUtf8.decode(part.bytes);
        if (part.field === 2 && part.bytes !== undefined) entry = Uint8Array.from(part.bytes);
      }
      metadata[key] = entry;
    } else if (field === 2) {
      data = Uint8Array.from(value);
    }
  }
  return { metadata, data };
}
