import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Connection,
  type Context,
  deterministicRuntime,
  RuntimeError,
  simulatedNetwork,
  withNetwork,
} from '../../src/runtime/index.js';

const T0 = 1_700_000_000_000;

function code(expected: string): (e: unknown) => boolean {
  return (e) => e instanceof RuntimeError && e.code === expected;
}

async function pair(ctx: Context, ip = '127.0.0.1'): Promise<{ a: Connection; b: Connection }> {
  const listener = await ctx.network.bind({ ip, port: 0 });
  const accepted = listener.accept();
  const a = await ctx.network.dial(listener.address);
  const b = await accepted;
  listener.close();
  return { a, b };
}

async function sim<T>(fn: (ctx: Context) => Promise<T>, linkDelayMs = 0): Promise<T> {
  return (await deterministicRuntime({ seed: 8, linkDelayMs, bufferBytes: 64 * 1024 }).run(fn))
    .result;
}

test('dialing an address nobody listens on is refused', () =>
  sim(async (ctx) => {
    await assert.rejects(ctx.network.dial({ ip: '127.0.0.1', port: 9 }), code('ConnectionRefused'));
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 7000 });
    listener.close();
    await assert.rejects(
      ctx.network.dial({ ip: '127.0.0.1', port: 7000 }),
      code('ConnectionRefused'),
    );
    await assert.rejects(listener.accept(), code('ListenerClosed'));
  }));

test('binding a bound address fails and port 0 picks distinct ephemeral ports', () =>
  sim(async (ctx) => {
    const a = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const b = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    assert.notEqual(a.address.port, b.address.port);
    await assert.rejects(ctx.network.bind(a.address), code('AddressInUse'));
    await assert.rejects(
      ctx.network.bind({ ip: '0.0.0.0', port: a.address.port }),
      code('AddressInUse'),
    );
    const wild = await ctx.network.bind({ ip: '0.0.0.0', port: 8000 });
    const accepted = wild.accept();
    const conn = await ctx.network.dial({ ip: '10.1.2.3', port: 8000 });
    assert.deepEqual((await accepted).local, { ip: '10.1.2.3', port: 8000 });
    conn.close();
  }));

test('the per-link delay is observed exactly in virtual time, in each direction', () =>
  sim(async (ctx) => {
    const net = simulatedNetwork(ctx);
    net.setLinkDelay('10.0.0.1', '10.0.0.2', 25);
    net.setLinkDelay('10.0.0.2', '10.0.0.1', 40);
    const listener = await ctx.network.bind({ ip: '10.0.0.2', port: 0 });
    const accepted = listener.accept();
    const fromOne = withNetwork(ctx, net.host('10.0.0.1'));
    const a = await fromOne.network.dial(listener.address);
    assert.equal(ctx.clock.now() - T0, 25, 'the dial takes one link delay');
    assert.deepEqual(a.local.ip, '10.0.0.1');
    const b = await accepted;
    assert.equal(b.remote.ip, '10.0.0.1');

    const sentAt = ctx.clock.now();
    await a.sink.send(new Uint8Array([1, 2, 3]));
    assert.equal(b.stream.peek(3).length, 0, 'not there before the delay');
    await b.stream.recv(3);
    assert.equal(ctx.clock.now() - sentAt, 25);
    const backAt = ctx.clock.now();
    await b.sink.send(new Uint8Array([4]));
    await a.stream.recv(1);
    assert.equal(ctx.clock.now() - backAt, 40);

    // A shorter delay never reorders the stream: later bytes wait for earlier ones.
    net.setLinkDelay('10.0.0.1', '10.0.0.2', 100);
    const slowAt = ctx.clock.now();
    await a.sink.send(new Uint8Array([5]));
    net.setLinkDelay('10.0.0.1', '10.0.0.2', 1);
    await a.sink.send(new Uint8Array([6]));
    assert.deepEqual([...(await b.stream.recv(2))], [5, 6]);
    assert.equal(ctx.clock.now() - slowAt, 100);

    net.setLinkDelay('10.0.0.1', '10.0.0.2', undefined);
    net.setDefaultLinkDelay(3);
    const defAt = ctx.clock.now();
    await a.sink.send(new Uint8Array([7]));
    await b.stream.recv(1);
    assert.equal(ctx.clock.now() - defAt, 3);
  }));

test('cut closes both ends: buffered bytes stay readable, in-flight bytes are lost', () =>
  sim(async (ctx) => {
    const net = simulatedNetwork(ctx);
    const { a, b } = await pair(ctx);
    const id = net.connectionId(a)!;
    assert.equal(net.connectionId(b), id);
    assert.deepEqual(
      net.connections().map((c) => c.id),
      [id],
    );
    await a.sink.send(new Uint8Array([1, 2]));
    net.setDefaultLinkDelay(10);
    await a.sink.send(new Uint8Array([3]));
    const pendingOnA = a.stream.recv(1);
    assert.equal(net.cut(id), true);
    await assert.rejects(pendingOnA, code('Closed'));
    await Promise.all([a.closed, b.closed]);
    assert.deepEqual([...(await b.stream.recv(2))], [1, 2]);
    await assert.rejects(b.stream.recv(1), code('Closed'));
    await assert.rejects(a.sink.send(new Uint8Array([9])), code('Closed'));
    await ctx.clock.sleep(50);
    assert.equal(b.stream.peek(10).length, 0, 'the in-flight byte never arrives');
    assert.equal(net.cut(999), false);
  }));

test('reset poisons both ends: every pending and later call rejects', () =>
  sim(async (ctx) => {
    const net = simulatedNetwork(ctx);
    const { a, b } = await pair(ctx);
    await a.sink.send(new Uint8Array([1, 2]));
    const pending = a.stream.recv(1);
    assert.equal(net.reset(net.connectionId(a)!), true);
    await assert.rejects(pending, code('Reset'));
    await assert.rejects(b.stream.recv(1), code('Reset'));
    assert.equal(b.stream.peek(2).length, 0, 'buffered bytes are dropped');
    await assert.rejects(b.sink.send(new Uint8Array([1])), code('Reset'));
    await Promise.all([a.closed, b.closed]);
    assert.deepEqual(net.connections(), []);
  }));

test('backpressure holds a sender once the link buffer is full', () =>
  sim(async (ctx) => {
    const net = simulatedNetwork(ctx);
    const { a, b } = await pair(ctx);
    const id = net.connectionId(a)!;
    let accepted = 0;
    const writer = ctx.spawn('writer', async () => {
      for (let i = 0; i < 100; i++) {
        await a.sink.send(new Uint8Array(10_000));
        accepted += 10_000;
      }
    });
    await ctx.clock.sleep(1_000);
    // 64 KiB fit: six sends complete, the seventh waits with its first part taken.
    assert.equal(accepted, 60_000);
    assert.equal(net.buffered(id)?.dialerToListener, 64 * 1024);
    assert.equal(b.stream.peek(1 << 20).length, 64 * 1024);
    let received = 0;
    while (received < 1_000_000) {
      received += (await b.stream.recv(5_000)).length;
      assert.ok(net.buffered(id)!.dialerToListener <= 64 * 1024);
    }
    await writer.done;
    assert.equal(accepted, 1_000_000);
    assert.equal(net.buffered(id)?.dialerToListener, 0);
  }));

test('a sender blocked on a dead receiver fails once the close reaches it', () =>
  sim(async (ctx) => {
    const { a, b } = await pair(ctx);
    const big = a.sink.send(new Uint8Array(200_000));
    b.close();
    await assert.rejects(big, code('Closed'));
  }, 5));

test('read and write timeouts run on virtual time', async () => {
  const { result } = await deterministicRuntime({
    seed: 1,
    readTimeoutMs: 30_000,
    writeTimeoutMs: 20_000,
    bufferBytes: 10,
  }).run(async (ctx) => {
    const { a, b } = await pair(ctx);
    await assert.rejects(b.stream.recv(1), code('ReadTimeout'));
    const afterRead = ctx.clock.now() - T0;
    await assert.rejects(b.stream.recv(1), code('ReadTimeout'), 'poisoned');
    await assert.rejects(a.sink.send(new Uint8Array(11)), (e) => e instanceof RuntimeError);
    const { a: c } = await pair(ctx);
    const start = ctx.clock.now();
    await assert.rejects(c.sink.send(new Uint8Array(11)), code('WriteTimeout'));
    return [afterRead, ctx.clock.now() - start];
  });
  assert.deepEqual(result, [30_000, 20_000]);
});

test('dns resolves from the table, IP literals resolve to themselves', async () => {
  const { result } = await deterministicRuntime({
    seed: 1,
    dns: { 'boot.test': ['10.0.0.9', '10.0.0.10'] },
  }).run(async (ctx) => {
    const net = simulatedNetwork(ctx);
    const first = await ctx.network.resolve('boot.test');
    net.setDns('boot.test', undefined);
    await assert.rejects(ctx.network.resolve('boot.test'), code('ResolveFailed'));
    net.setDns('other.test', ['::1']);
    return [first, await ctx.network.resolve('other.test'), await ctx.network.resolve('1.2.3.4')];
  });
  assert.deepEqual(result, [['10.0.0.9', '10.0.0.10'], ['::1'], ['1.2.3.4']]);
});

test('an aborted dial or accept rejects with the abort reason', () =>
  sim(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    const accept = listener.accept(ac.signal);
    const dial = ctx.network.dial(listener.address, ac.signal);
    ac.abort(new Error('gone'));
    await assert.rejects(accept, /gone/);
    await assert.rejects(dial, /gone/);
    await ctx.clock.sleep(100);
    assert.equal(simulatedNetwork(ctx).connections().length, 0);
  }, 10));

test('simulatedNetwork refuses a context of another runtime', () => {
  assert.throws(() => simulatedNetwork({} as Context), TypeError);
});
