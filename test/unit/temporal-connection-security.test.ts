/**
 * Connection security: the plaintext policy (temporal/connection.ts) and the connection target
 * read from the config (temporal/target.ts: TLS files, API key, encryption).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/load';
import { builtInConnectors } from '../../connectors/registry';
import { connectClient, connectWorkerConnection, hostOfAddress, isLoopbackHost, PlaintextConnectionError, plaintextConnectionProblem } from '../../temporal/connection';
import { temporalTargetFromConfig } from '../../temporal/target';
import { EncryptionCodec } from '../../temporal/payload-codec';
import { DEMO_CONNECTORS_YAML } from '../support/config-text';

describe('plaintext policy', () => {
  it('knows loopback hosts', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', 'localhost.', 'temporal.localhost', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.5', '128.0.0.1', 'temporal', 'temporal.example.com', 'localhost.example.com', '::2', 'fe80::1', '0.0.0.0']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('reads the host of host:port addresses, IPv6 in brackets', () => {
    expect(hostOfAddress('127.0.0.1:7233')).toBe('127.0.0.1');
    expect(hostOfAddress('[::1]:7233')).toBe('::1');
    expect(hostOfAddress('ns.acct.tmprl.cloud:7233')).toBe('ns.acct.tmprl.cloud');
    expect(hostOfAddress('temporal')).toBe('temporal');
  });

  it('accepts loopback without TLS, and anything with TLS, an API key or allowPlaintext', () => {
    expect(plaintextConnectionProblem({ address: '127.0.0.1:7233' })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: 'localhost:7233' })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: '[::1]:7233' })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: 'temporal.example.com:7233', tls: {} })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: 'temporal.example.com:7233', tls: true })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key' })).toBeUndefined();
    expect(plaintextConnectionProblem({ address: '10.0.0.5:7233', allowPlaintext: true })).toBeUndefined();
  });

  it('refuses a plaintext connection to any other address, naming the settings', () => {
    const problem = plaintextConnectionProblem({ address: 'temporal.example.com:7233' });
    expect(problem).toBe(
      'refusing to connect to Temporal at temporal.example.com:7233 without TLS: it is not a loopback address, so workflow data (and the connection\'s credentials) would cross the network unencrypted. ' +
        'Configure temporal.tls (mTLS, or an empty tls: {} for server-authenticated TLS) or temporal.apiKey (Temporal Cloud), or set temporal.allowPlaintext: true to accept a plaintext connection (e.g. a private network you trust)',
    );
    expect(plaintextConnectionProblem({ address: '10.0.0.5:7233', tls: false })).toMatch(/^refusing to connect to Temporal at 10\.0\.0\.5:7233 without TLS/);
  });

  it('connectClient and connectWorkerConnection refuse before any network traffic', async () => {
    // 192.0.2.0/24 is TEST-NET-1: nothing answers there, so a refusal here is the policy's.
    await expect(connectClient({ address: '192.0.2.10:7233', namespace: 'default' })).rejects.toThrow(PlaintextConnectionError);
    await expect(connectWorkerConnection({ address: '192.0.2.10:7233', namespace: 'default' })).rejects.toThrow(/temporal\.allowPlaintext: true/);
  });
});

describe('temporalTargetFromConfig', () => {
  function configIn(dir: string, temporal: string, env: NodeJS.ProcessEnv = {}) {
    return parseConfig(`temporal:\n${temporal}\n${DEMO_CONNECTORS_YAML}`, join(dir, 'omnisync.yaml'), { registry: builtInConnectors(), env: { SHOPIFY_ACCESS_TOKEN: 'shpat_x', ...env } });
  }

  it('reads the CA, the client certificate and key (relative to the config file) and the server name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnisync-tls-config-'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs/ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'certs/client.pem'), 'CLIENT CERT PEM');
    writeFileSync(join(dir, 'certs/client.key'), 'CLIENT KEY PEM');
    const config = configIn(
      dir,
      '  address: temporal.internal:7233\n  tls:\n    serverRootCaCertFile: certs/ca.pem\n    clientCertFile: certs/client.pem\n    clientKeyFile: certs/client.key\n    serverNameOverride: temporal.example.com',
    );
    const target = temporalTargetFromConfig(config.temporal);
    expect(target).toEqual({
      address: 'temporal.internal:7233',
      namespace: 'default',
      allowPlaintext: false,
      tls: {
        serverNameOverride: 'temporal.example.com',
        serverRootCACertificate: Buffer.from('CA PEM'),
        clientCertPair: { crt: Buffer.from('CLIENT CERT PEM'), key: Buffer.from('CLIENT KEY PEM') },
      },
    });
    expect(plaintextConnectionProblem(target)).toBeUndefined();
  });

  it('an empty tls section is server-authenticated TLS with the system CAs', () => {
    const target = temporalTargetFromConfig(configIn(mkdtempSync(join(tmpdir(), 'omnisync-tls-')), '  address: temporal.example.com:7233\n  tls: {}').temporal);
    expect(target.tls).toEqual({});
    expect(plaintextConnectionProblem(target)).toBeUndefined();
  });

  it('a TLS file that cannot be read is named by its config key', () => {
    const config = configIn(mkdtempSync(join(tmpdir(), 'omnisync-tls-')), '  address: temporal.example.com:7233\n  tls:\n    serverRootCaCertFile: missing-ca.pem');
    expect(() => temporalTargetFromConfig(config.temporal)).toThrow(/^temporal\.tls\.serverRootCaCertFile: cannot read .*missing-ca\.pem \(ENOENT\)$/);
  });

  it('mTLS needs both the certificate and the key', () => {
    const problems = (() => {
      try {
        configIn(mkdtempSync(join(tmpdir(), 'omnisync-tls-')), '  tls:\n    clientCertFile: client.pem');
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    })();
    expect(problems).toEqual(['temporal.tls.clientKeyFile: mTLS needs both clientCertFile and clientKeyFile; only one is set']);
  });

  it('carries the API key (by reference), allowPlaintext, and the encrypting data converter', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = configIn(
      mkdtempSync(join(tmpdir(), 'omnisync-tls-')),
      '  address: ns.acct.tmprl.cloud:7233\n  namespace: ns.acct\n  apiKey: ${env:TEMPORAL_API_KEY}\n  allowPlaintext: true\n  encryption:\n    activeKeyId: k1\n    keys:\n      k1: ${env:K1}',
      { TEMPORAL_API_KEY: 'api-key-value', K1: key },
    );
    const target = temporalTargetFromConfig(config.temporal);
    expect(target).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: 'api-key-value', allowPlaintext: true });
    expect(target.dataConverter?.payloadCodecs?.[0]).toBeInstanceOf(EncryptionCodec);
    expect(config.secretValues).toContain('api-key-value');
  });

  it('allowPlaintext defaults to false; a plaintext remote address is refused when connecting', () => {
    const config = configIn(mkdtempSync(join(tmpdir(), 'omnisync-tls-')), '  address: 192.0.2.10:7233');
    expect(config.temporal.allowPlaintext).toBe(false);
    expect(plaintextConnectionProblem(temporalTargetFromConfig(config.temporal))).toMatch(/temporal\.allowPlaintext: true/);
  });
});
