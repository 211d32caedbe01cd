import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkByDialing } from '../../src/cli/check.js';
import { loadConfig } from '../../src/cli/config.js';
import { ed25519 } from '../../src/crypto/index.js';
import { type Context, nodeRuntime } from '../../src/runtime/index.js';
import { listen, Config as StreamConfig } from '../../src/stream/index.js';
import { keygen, lookupConfig, tempDir, writeConfig } from './helpers.js';

const PEER = ed25519.PrivateKey.fromSeed(7n);
const HOUR = 3_600_000;

/** `ctx` with a clock `offsetMs` ahead: a peer whose clock is off. */
function skewed(ctx: Context, offsetMs: number): Context {
  const clock = {
    now: () => ctx.clock.now() + offsetMs,
    sleep: (ms: number, signal?: AbortSignal) => ctx.clock.sleep(ms, signal),
    sleepUntil: (t: number, signal?: AbortSignal) => ctx.clock.sleepUntil(t - offsetMs, signal),
  };
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === 'clock') return clock;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('check-peers handshakes', () => {
  const tmp = tempDir();
  before(async () => {
    await keygen(tmp.dir, 'node.key');
  });
  after(() => tmp.remove());

  // The peer's clock offset, and what check-peers must say about it.
  const cases: [number, RegExp | null][] = [
    [0, null],
    [3 * HOUR, /^the peer's clock is 3h00m ahead, beyond synchronyBoundMs 5000$/],
    [-3 * HOUR, /^the peer's clock is 3h00m behind, beyond maxHandshakeAgeMs 10000$/],
  ];
  for (const [offset, expected] of cases) {
    it(`measures a peer clock offset of ${offset / HOUR} h from its SynAck`, async () => {
      await nodeRuntime().run(async (ctx) => {
        const server = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
        const peerCtx = skewed(ctx, offset);
        // The peer tolerates any skew itself, so that it answers with its (skewed) SynAck.
        const peerStream = new StreamConfig({
          signer: PEER,
          namespace: new TextEncoder().encode('cli-test_STREAM'),
          maxMessageSize: 1 << 16,
          synchronyBoundMs: 24 * HOUR,
          maxHandshakeAgeMs: 24 * HOUR,
          handshakeTimeoutMs: 5000,
        });
        const served = (async () =>
          listen(peerCtx, peerStream, await server.accept(), () => true))();
        const address = `127.0.0.1:${server.address.port}`;
        const cfg = loadConfig(
          writeConfig(
            tmp.dir,
            'node.json',
            lookupConfig('node.key', { peers: [[PEER.publicKey.toHex(), address]] }),
          ),
        );
        const report = await checkByDialing(ctx, cfg, 5000);
        await served;
        server.close();
        assert.equal(report.source, 'dial');
        const [r] = report.peers;
        assert.deepEqual(
          [r!.peer, r!.address, r!.reachable, r!.accepted],
          [PEER.publicKey.toHex(), address, true, true],
        );
        assert.ok(r!.roundTripMs! >= 0);
        // The estimate is within half a round trip (plus rounding) of the true offset.
        assert.ok(
          Math.abs(r!.clockOffsetMs! - offset) <= r!.roundTripMs! / 2 + 1,
          `${r!.clockOffsetMs} vs ${offset}`,
        );
        if (expected === null) {
          assert.equal(r!.error, null);
          assert.equal(report.ok, true);
        } else {
          assert.match(r!.error!, expected);
          assert.equal(report.ok, false);
        }
      });
    });
  }
});
