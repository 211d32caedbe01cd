import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { CheckReport } from '../../src/cli/check.js';
import { freePort } from '../helpers/child.js';
import { cli, keygen, lookupConfig, Node, tempDir, writeConfig } from './helpers.js';

describe('authp2p run (child processes on 127.0.0.1)', { timeout: 60_000 }, () => {
  const tmp = tempDir();
  const nodes: Node[] = [];
  after(() => {
    for (const n of nodes) n.kill();
    tmp.remove();
  });

  it('two nodes connect after SIGHUP adds the peer, check-peers shakes hands with them, and SIGTERM/SIGINT exit 0', async () => {
    const [a, b, c, d] = [
      await keygen(tmp.dir, 'a.key'),
      await keygen(tmp.dir, 'b.key'),
      await keygen(tmp.dir, 'c.key'),
      await keygen(tmp.dir, 'd.key'),
    ];
    // A starts knowing nobody, so it refuses B until the reload. It serves its admin endpoint.
    const admin = `127.0.0.1:${await freePort()}`;
    const aConfig = writeConfig(tmp.dir, 'a.json', lookupConfig('a.key', { admin }));
    const nodeA = new Node(aConfig);
    nodes.push(nodeA);
    const aRunning = await nodeA.json((l) => l.msg === 'node running');
    assert.equal(aRunning.key, a);
    assert.equal(aRunning.network, 'lookup');
    const aAddr = aRunning.listen as string;
    const nodeB = new Node(
      writeConfig(tmp.dir, 'b.json', lookupConfig('b.key', { peers: [[a, aAddr]] })),
    );
    nodes.push(nodeB);
    const bAddr = (await nodeB.json((l) => l.msg === 'node running')).listen as string;

    // SIGHUP with a broken file: one error line naming the field; A keeps running as it was.
    writeConfig(tmp.dir, 'a.json', lookupConfig('a.key', { admin, peers: [[b, 'nowhere']] }));
    nodeA.process.kill('SIGHUP');
    const refused = await nodeA.json(
      (l) => l.msg === 'reload failed; keeping the current peer sets',
    );
    assert.match(refused.err as string, /^a\.json: peers\[0\]\[1\]: /);
    // SIGHUP: A re-reads its file and registers B (and C, which never runs) as peer set 1.
    writeConfig(
      tmp.dir,
      'a.json',
      lookupConfig('a.key', {
        admin,
        peers: [
          [b, bAddr],
          [c, '127.0.0.1:1'],
        ],
      }),
    );
    nodeA.process.kill('SIGHUP');
    const registered = await nodeA.json((l) => l.msg === 'peer set registered');
    assert.deepEqual([registered.index, registered.peers], [1, 2]);
    const aSawB = await nodeA.json((l) => l.msg === 'peer connected' && l.peer === b);
    assert.equal(aSawB.address, bAddr);
    await nodeB.json((l) => l.msg === 'peer connected' && l.peer === a);

    // check-peers as C: A accepts (C is in its set), B refuses (it is not), D's port is closed.
    const dead = await freePort();
    const cConfig = writeConfig(
      tmp.dir,
      'c.json',
      lookupConfig('c.key', {
        peers: [
          [a, aAddr],
          [b, bAddr],
          [d, `127.0.0.1:${dead}`],
        ],
      }),
    );
    const r = await cli('check-peers', cConfig, '--json');
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.source, 'dial');
    const [toA, toB, toD] = report.peers;
    assert.deepEqual([toA!.peer, toA!.reachable, toA!.accepted, toA!.error], [a, true, true, null]);
    assert.equal(typeof toA!.roundTripMs, 'number');
    assert.ok(
      Math.abs(toA!.clockOffsetMs!) < 1000,
      `same machine, same clock: ${toA!.clockOffsetMs}`,
    );
    assert.deepEqual([toB!.reachable, toB!.accepted], [true, false]);
    assert.match(toB!.error!, /^RecvFailed: the peer closed the handshake/);
    assert.deepEqual([toD!.reachable, toD!.accepted], [false, null]);
    assert.match(toD!.error!, /ECONNREFUSED/);
    const table = await cli('check-peers', cConfig);
    assert.match(
      table.stdout,
      /^handshakes as [0-9a-f]{64} \(lookup\)\npeer +address +reachable +accepted +round trip +clock offset +result\n/,
    );
    assert.match(table.stdout, /2 of 3 failed\n$/);

    // status from A's admin endpoint; check-peers with A's own config reads it instead of dialing.
    const status = await cli('status', '--admin', admin, '--json');
    assert.equal(status.status, 0, status.stderr);
    const doc = JSON.parse(status.stdout) as {
      key: string;
      peers: { key: string; state: string }[];
    };
    assert.equal(doc.key, a);
    // On failure, what A and B logged about each other says why (a flake under CI load once).
    const about = (n: Node, peer: string) =>
      JSON.stringify(n.records.filter((l) => l.peer === peer));
    assert.equal(
      doc.peers.find((p) => p.key === b)?.state,
      'connected',
      `A: ${about(nodeA, b)}\nB: ${about(nodeB, a)}`,
    );
    const shown = await cli('status', '--admin', admin);
    assert.match(shown.stdout, new RegExp(`^node ${a} \\(lookup\\) listening on ${aAddr}\n`));
    assert.match(shown.stdout, new RegExp(`\\n${b.slice(0, 16)}\\.\\. +${bAddr} +connected `));
    const own = await cli('check-peers', aConfig, '--json');
    assert.equal(own.status, 1, 'C never runs');
    const ownReport = JSON.parse(own.stdout) as CheckReport;
    assert.equal(ownReport.source, 'status');
    assert.deepEqual(
      ownReport.peers.map((p) => [p.peer, p.accepted]),
      [
        [b, true],
        [c, null],
      ],
    );

    const [exitA, exitB] = await Promise.all([nodeA.stop('SIGTERM'), nodeB.stop('SIGINT')]);
    assert.deepEqual(exitA, { code: 0, signal: null });
    assert.deepEqual(exitB, { code: 0, signal: null });
    for (const n of [nodeA, nodeB]) {
      assert.ok(n.records.some((l) => l.msg === 'stopping'));
      assert.equal(n.records.at(-1)!.msg, 'node stopped');
      assert.equal(n.stderr, '');
    }
  });

  it('a port in use is one line on stderr naming the address, and exit 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await keygen(tmp.dir, 'e.key');
      const config = writeConfig(tmp.dir, 'e.json', {
        ...lookupConfig('e.key', { network: 'discovery', listen: `127.0.0.1:${port}` }),
        dialable: `127.0.0.1:${port}`,
        bootstrappers: [],
      });
      const node = new Node(config);
      nodes.push(node);
      const exit = await node.exited;
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.deepEqual(node.lines, []);
      assert.equal(node.stderr.split('\n').length, 2, node.stderr);
      assert.match(
        node.stderr,
        new RegExp(`^authp2p: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
    } finally {
      taken.close();
    }
  });
});
