import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Config, MAX_MESSAGE_SIZE, StreamError } from '../../src/stream/index.js';
import { DEFAULTS, LISTENER_KEY } from './helpers.js';

function invalid(field: string, overrides: Record<string, unknown>): void {
  assert.throws(
    () => new Config({ ...DEFAULTS, signer: LISTENER_KEY, ...overrides } as never),
    (e: unknown) =>
      e instanceof StreamError && e.code === 'InvalidConfig' && e.message.includes(field),
  );
}

describe('stream config', () => {
  it('accepts the recommended values and the largest message size', () => {
    const c = new Config({ ...DEFAULTS, signer: LISTENER_KEY, maxMessageSize: MAX_MESSAGE_SIZE });
    assert.equal(c.maxMessageSize, 0xffff_ffff - 16);
    assert.equal(c.validated, true);
  });

  it('copies the namespace', () => {
    const ns = new Uint8Array([1, 2, 3]);
    const c = new Config({ ...DEFAULTS, signer: LISTENER_KEY, namespace: ns });
    ns[0] = 9;
    assert.deepEqual(c.namespace, new Uint8Array([1, 2, 3]));
  });

  it('rejects every out-of-range field with InvalidConfig naming it', () => {
    invalid('maxMessageSize', { maxMessageSize: MAX_MESSAGE_SIZE + 1 });
    invalid('maxMessageSize', { maxMessageSize: -1 });
    invalid('maxMessageSize', { maxMessageSize: 1.5 });
    invalid('synchronyBoundMs', { synchronyBoundMs: -1 });
    invalid('maxHandshakeAgeMs', { maxHandshakeAgeMs: Number.NaN });
    invalid('handshakeTimeoutMs', { handshakeTimeoutMs: 0 });
    invalid('namespace', { namespace: 'abc' });
    invalid('signer', { signer: {} });
  });
});
