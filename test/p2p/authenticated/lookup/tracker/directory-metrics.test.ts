import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrivateKey } from '../../../../../src/crypto/ed25519.js';
import { Directory } from '../../../../../src/p2p/authenticated/lookup/tracker/directory.js';
import { DirectoryMetrics } from '../../../../../src/p2p/authenticated/tracker/metrics.js';
import { AddressableTrackedPeers } from '../../../../../src/p2p/types.js';
import { MetricsRoot } from '../../../../../src/runtime/metrics.js';

const pk = (n: bigint) => PrivateKey.fromSeed(n).publicKey;

/** The value of `name{peer="<peer>"}` (or `name` without labels) in an exposition. */
function sample(text: string, name: string, peer?: string): number | undefined {
  const head = peer === undefined ? `${name} ` : `${name}{peer="${peer}"} `;
  const line = text.split('\n').find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

describe('DirectoryMetrics.register', () => {
  it('exposes tracked, reserved, connected, blocked, limits and updates under the context prefix', async () => {
    const metrics = new MetricsRoot().view('network_tracker');
    const dir = new Directory(
      pk(0n),
      {
        allowPrivateIps: true,
        allowDns: true,
        bypassIpCheck: false,
        trackedPeerSets: 4,
        maxPeersPerSet: 8,
        peerConnectionCooldownMs: 1000,
        blockDurationMs: 5000,
      },
      {
        rng: { int: (min) => min },
        releaser: () => {},
        metrics: DirectoryMetrics.register(metrics),
      },
    );
    const a = pk(1n);
    const b = pk(2n);
    dir.track(
      0,
      AddressableTrackedPeers.from([
        [a, '10.0.0.1:1'],
        [b, '10.0.0.2:1'],
      ]),
    );
    const r = dir.listen(a, '10.0.0.1', 100)!.reservation;
    dir.connect(a, 150);
    dir.block(b, 200);
    dir.overwrite([[b, AddressableTrackedPeers.from([[b, '10.0.0.3:1']]).primaryAddresses[0]!]]);
    r.release();
    dir.release(r.metadata);
    assert.equal(dir.listen(a, '10.0.0.1', 300), undefined, 'cooldown');

    const text = await metrics.encode();
    assert.equal(sample(text, 'network_tracker_tracked'), 2);
    assert.equal(sample(text, 'network_tracker_reserved'), 0);
    assert.equal(sample(text, 'network_tracker_connected', a.toHex()), undefined, 'removed');
    assert.equal(sample(text, 'network_tracker_blocked', b.toHex()), 5200);
    // Counters are exposed with the `_total` suffix (reference section 13).
    const counter = (name: string, peer: string) => sample(text, `${name}_total`, peer);
    assert.equal(sample(text, 'network_tracker_limits', a.toHex()), undefined, 'no bare name');
    assert.equal(counter('network_tracker_limits', a.toHex()), 1);
    assert.equal(counter('network_tracker_updates', b.toHex()), 1);
    dir.unblockExpired(5200);
    assert.equal(sample(await metrics.encode(), 'network_tracker_blocked', b.toHex()), undefined);
  });
});
