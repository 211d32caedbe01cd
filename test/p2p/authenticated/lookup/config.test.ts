import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../src/crypto/ed25519.js';
import {
  Config,
  type ConfigInput,
  MAX_MESSAGE_SIZE,
} from '../../../../src/p2p/authenticated/lookup/config.js';
import { P2PError } from '../../../../src/p2p/errors.js';
import { Quota } from '../../../../src/quota/index.js';

const base = (): ConfigInput => ({
  signer: PrivateKey.fromSeed(1n),
  namespace: new TextEncoder().encode('my-app'),
  listen: '127.0.0.1:3001',
  maxPeersPerSet: 32,
  maxMessageSize: 1 << 20,
});

const invalidField = (field: string) => (e: unknown) =>
  e instanceof P2PError && e.code === 'InvalidConfig' && e.message.includes(field);

describe('lookup Config presets', () => {
  it('fills every recommended default', () => {
    const c = Config.recommended(base());
    assert.deepEqual(c.listen, { ip: '127.0.0.1', port: 3001 });
    assert.equal(c.maxPeersPerSet, 32);
    assert.equal(c.maxMessageSize, 1 << 20);
    assert.equal(c.allowPrivateIps, false);
    assert.equal(c.allowDns, true);
    assert.equal(c.bypassIpCheck, false);
    assert.equal(c.mailboxSize, 1000);
    assert.equal(c.sendBatchSize, 8);
    assert.equal(c.synchronyBoundMs, 5_000);
    assert.equal(c.maxHandshakeAgeMs, 10_000);
    assert.equal(c.handshakeTimeoutMs, 5_000);
    assert.equal(c.dialTimeoutMs, 15_000);
    assert.equal(c.peerConnectionCooldownMs, 60_000);
    assert.equal(c.maxConcurrentHandshakes, 512);
    assert.equal(c.allowedHandshakeRatePerIp.replenishIntervalMs, 5_000);
    assert.equal(c.allowedHandshakeRatePerIp.burstSize, 1);
    assert.equal(c.allowedHandshakeRatePerSubnet.burstSize, 64);
    assert.equal(c.dialFrequencyMs, 1_000);
    assert.equal(c.pingFrequencyMs, 50_000);
    assert.equal(c.trackedPeerSets, 4);
    assert.equal(c.blockDurationMs, 4 * 3600 * 1000);
    assert.ok(Object.isFrozen(c));
  });

  it('fills every local default', () => {
    const c = Config.local(base());
    assert.equal(c.allowPrivateIps, true);
    assert.equal(c.allowDns, true);
    assert.equal(c.bypassIpCheck, false);
    assert.equal(c.peerConnectionCooldownMs, 1_000);
    assert.equal(c.maxConcurrentHandshakes, 1024);
    assert.equal(c.allowedHandshakeRatePerIp.burstSize, 16);
    assert.equal(c.allowedHandshakeRatePerSubnet.burstSize, 128);
    assert.equal(c.dialFrequencyMs, 500);
    assert.equal(c.pingFrequencyMs, 5_000);
    assert.equal(c.blockDurationMs, 3600 * 1000);
    assert.equal(c.trackedPeerSets, 4);
    assert.equal(c.mailboxSize, 1000);
  });

  it('applies overrides and treats undefined as the default', () => {
    const q = Quota.perSecond(3);
    const c = Config.local({
      ...base(),
      listen: { ip: '::', port: 0 },
      trackedPeerSets: 2,
      allowedHandshakeRatePerIp: q,
      bypassIpCheck: true,
      dialTimeoutMs: undefined,
    });
    assert.deepEqual(c.listen, { ip: '::', port: 0 });
    assert.equal(c.trackedPeerSets, 2);
    assert.equal(c.allowedHandshakeRatePerIp, q);
    assert.equal(c.bypassIpCheck, true);
    assert.equal(c.dialTimeoutMs, 15_000);
  });

  it('copies the namespace so later mutation of the input has no effect', () => {
    const input = base();
    const c = Config.local(input);
    (input.namespace as Uint8Array)[0] = 0;
    assert.equal(new TextDecoder().decode(c.namespace), 'my-app');
  });
});

describe('lookup Config validation', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['maxPeersPerSet', { maxPeersPerSet: 0 }],
    ['maxPeersPerSet', { maxPeersPerSet: 1.5 }],
    ['maxMessageSize', { maxMessageSize: -1 }],
    ['maxMessageSize', { maxMessageSize: MAX_MESSAGE_SIZE + 1 }],
    ['listen', { listen: 'localhost:3000' }],
    ['listen', { listen: '127.0.0.1' }],
    ['listen', { listen: '127.0.0.1:99999' }],
    ['namespace', { namespace: 'my-app' }],
    ['signer', { signer: undefined }],
    ['signer', { signer: {} }],
    ['mailboxSize', { mailboxSize: 0 }],
    ['sendBatchSize', { sendBatchSize: 0 }],
    ['synchronyBoundMs', { synchronyBoundMs: -1 }],
    ['maxHandshakeAgeMs', { maxHandshakeAgeMs: Number.NaN }],
    ['handshakeTimeoutMs', { handshakeTimeoutMs: 0 }],
    ['dialTimeoutMs', { dialTimeoutMs: Infinity }],
    ['peerConnectionCooldownMs', { peerConnectionCooldownMs: -5 }],
    ['maxConcurrentHandshakes', { maxConcurrentHandshakes: 0 }],
    ['allowedHandshakeRatePerIp', { allowedHandshakeRatePerIp: 5 }],
    ['allowedHandshakeRatePerSubnet', { allowedHandshakeRatePerSubnet: {} }],
    ['dialFrequencyMs', { dialFrequencyMs: 0 }],
    ['pingFrequencyMs', { pingFrequencyMs: 1 }],
    ['trackedPeerSets', { trackedPeerSets: 0 }],
    ['trackedPeerSets', { maxPeersPerSet: 2 ** 40, trackedPeerSets: 2 ** 20 }],
    ['blockDurationMs', { blockDurationMs: '1h' }],
    ['allowPrivateIps', { allowPrivateIps: 'yes' }],
    ['allowDns', { allowDns: 1 }],
    ['bypassIpCheck', { bypassIpCheck: null }],
    ['dialFrequency', { dialFrequency: 1000 }],
  ];
  for (const [field, over] of bad) {
    it(`rejects ${JSON.stringify(over)} naming ${field}`, () => {
      const input = { ...base(), ...over } as unknown as ConfigInput;
      assert.throws(() => Config.recommended(input), invalidField(field));
      assert.throws(() => Config.local(input), invalidField(field));
    });
  }

  it('rejects a missing options object', () => {
    assert.throws(
      () => Config.local(undefined as unknown as ConfigInput),
      (e) => e instanceof P2PError && e.code === 'InvalidConfig',
    );
  });

  it('accepts the boundary values', () => {
    const c = Config.recommended({
      ...base(),
      maxMessageSize: MAX_MESSAGE_SIZE,
      maxPeersPerSet: 1,
      peerConnectionCooldownMs: 0,
      blockDurationMs: 0,
      listen: '[::1]:65535',
    });
    assert.equal(c.maxMessageSize, 2 ** 32 - 33);
    assert.deepEqual(c.listen, { ip: '::1', port: 65535 });
  });
});
