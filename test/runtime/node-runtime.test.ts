import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Connection } from '../../src/runtime/context.js';
import { JsonLogger, type Logger, nodeRuntime, RuntimeError } from '../../src/runtime/index.js';

function code(expected: string): (e: unknown) => boolean {
  return (e) => e instanceof RuntimeError && e.code === expected;
}

test('node: dialing a closed port on 127.0.0.1 is refused', () =>
  nodeRuntime().run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const address = listener.address;
    listener.close();
    await assert.rejects(ctx.network.dial(address), code('ConnectionRefused'));
    await assert.rejects(listener.accept(), code('ListenerClosed'));
  }));

test('node: binding a bound port fails with AddressInUse', () =>
  nodeRuntime().run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    await assert.rejects(ctx.network.bind(listener.address), code('AddressInUse'));
  }));

test('node: a recv with no bytes fails with ReadTimeout and poisons the connection', () =>
  nodeRuntime({ readTimeoutMs: 30 }).run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const accepted = listener.accept();
    const a = await ctx.network.dial(listener.address);
    const b = await accepted;
    await assert.rejects(b.stream.recv(1), code('ReadTimeout'));
    await assert.rejects(b.sink.send(new Uint8Array(1)), code('ReadTimeout'));
    await b.closed;
    await assert.rejects(a.stream.recv(1), code('Closed'));
  }));

test('node: the read deadlines of many connections share one Timeout, and a silent one still times out', () =>
  nodeRuntime({ readTimeoutMs: 200 }).run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const PAIRS = 10;
    const pairs: [Connection, Connection][] = [];
    for (let i = 0; i < PAIRS; i++) {
      const accepted = listener.accept();
      const a = await ctx.network.dial(listener.address);
      pairs.push([a, await accepted]);
    }
    const made: number[] = [];
    const original = globalThis.setTimeout;
    // Counts the Timeouts the network makes (it calls the global setTimeout).
    globalThis.setTimeout = ((fn: (...x: unknown[]) => void, ms: number, ...args: unknown[]) => {
      made.push(ms);
      return original(fn, ms, ...(args as []));
    }) as typeof setTimeout;
    try {
      // Five answered waits on every connection: a Timeout per connection would be ten.
      for (let round = 0; round < 5; round++) {
        const got = pairs.map(([, b]) => b.stream.recv(1));
        for (const [a] of pairs) await a.sink.send(Uint8Array.of(round));
        for (const g of got) assert.deepEqual([...(await g)], [round]);
      }
      assert.ok(made.length <= 2, `Timeouts made: ${made.join(', ')}`);
      // One connection falls silent while another keeps receiving: only the silent one times out.
      const [[, silent], [talker, busy]] = pairs as [
        [Connection, Connection],
        [Connection, Connection],
      ];
      const timedOut = assert.rejects(silent.stream.recv(1), code('ReadTimeout'));
      for (let i = 0; i < 6; i++) {
        const got = busy.stream.recv(1);
        await talker.sink.send(Uint8Array.of(i));
        await got;
        await ctx.clock.sleep(50);
      }
      await timedOut;
      // Three times the timeout has passed for it, yet the busy connection is open.
      const got = busy.stream.recv(1);
      await talker.sink.send(Uint8Array.of(9));
      assert.deepEqual([...(await got)], [9]);
    } finally {
      globalThis.setTimeout = original;
    }
  }));

test('node: sleep resolves, and an aborted sleep rejects with the reason', () =>
  nodeRuntime().run(async (ctx) => {
    const before = ctx.clock.now();
    await ctx.clock.sleep(5);
    assert.ok(ctx.clock.now() >= before + 4);
    const ac = new AbortController();
    const long = ctx.clock.sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(long, /stop/);
    await ctx.clock.sleepUntil(ctx.clock.now() - 10);
  }));

test('node: a zero sleep is one setImmediate (no 1 ms timer), and aborts like any sleep', () =>
  nodeRuntime().run(async (ctx) => {
    const order: string[] = [];
    setImmediate(() => order.push('before'));
    const zero = ctx.clock.sleep(0).then(() => order.push('sleep'));
    const past = ctx.clock.sleepUntil(ctx.clock.now() - 5).then(() => order.push('past'));
    setImmediate(() => order.push('after'));
    await Promise.all([zero, past]);
    await new Promise((resolve) => setImmediate(resolve));
    // In the queue's order: a timer (even of 0 ms, clamped to 1) would come after 'after'.
    assert.deepEqual(order, ['before', 'sleep', 'past', 'after']);
    const ac = new AbortController();
    const aborted = ctx.clock.sleep(0, ac.signal);
    let resolved = false;
    void aborted.then(
      () => (resolved = true),
      () => undefined,
    );
    ac.abort(new Error('stop'));
    await assert.rejects(aborted, /stop/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false);
    const pre = new AbortController();
    pre.abort(new Error('early'));
    await assert.rejects(ctx.clock.sleep(0, pre.signal), /early/);
  }));

test('node: resolve returns IP literals as they are and looks names up', () =>
  nodeRuntime().run(async (ctx) => {
    assert.deepEqual(await ctx.network.resolve('127.0.0.1'), ['127.0.0.1']);
    const local = await ctx.network.resolve('localhost');
    assert.ok(local.length > 0);
    await assert.rejects(ctx.network.resolve('name.invalid'), code('ResolveFailed'));
  }));

test('node: run closes listeners and connections left open', async () => {
  let address = { ip: '', port: 0 };
  await nodeRuntime().run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    address = listener.address;
    const accepted = listener.accept();
    await ctx.network.dial(address);
    await accepted;
  });
  await assert.rejects(
    nodeRuntime().run((ctx) => ctx.network.dial(address)),
    code('ConnectionRefused'),
  );
});

test('a given logger receives the context label as a binding', async () => {
  const lines: string[] = [];
  const log: Logger = new JsonLogger(
    'debug',
    () => 42,
    (line) => lines.push(line),
  );
  await nodeRuntime({ log }).run(async (ctx) => {
    ctx.child('peer1').log.info({ n: 1, key: new Uint8Array([0xab]) }, 'hello');
    ctx.log.debug({}, 'root');
    ctx.log.trace({}, 'dropped');
  });
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [
      { level: 30, time: 42, label: 'peer1', n: 1, key: 'ab', msg: 'hello' },
      { level: 20, time: 42, msg: 'root' },
    ],
  );
});

test('node: the local address is read on demand, and still known after either end closes', () =>
  nodeRuntime().run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const accepted = listener.accept();
    const a = await ctx.network.dial(listener.address);
    const b = await accepted;
    // Closed here (a) and by the peer (b), neither read before: both still report it.
    a.close();
    await a.closed;
    await b.closed;
    assert.equal(a.local.ip, '127.0.0.1');
    assert.ok(a.local.port > 0);
    assert.deepEqual(b.local, listener.address);
    assert.deepEqual(b.remote, a.local);
  }));

test('node: a write the socket cannot take at once settles when the peer reads it, or times out if it never does', () =>
  nodeRuntime({ writeTimeoutMs: 300 }).run(async (ctx) => {
    const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const BIG = 16 * 1024 * 1024;
    // 1. The reader drains: the waited write (the connection's first, issued without a write
    // callback) resolves once the bytes are taken, and later writes keep their order.
    {
      const accepted = listener.accept();
      const a = await ctx.network.dial(listener.address);
      const b = await accepted;
      let settled = false;
      const big = a.sink.send(new Uint8Array(BIG).fill(7)).then(() => {
        settled = true;
      });
      // A few event-loop turns (the socket's I/O runs), no wall-clock wait.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, 'the kernel cannot hold 16 MiB: the write waits');
      const tail = a.sink.send(Uint8Array.of(1, 2, 3));
      let got = 0;
      while (got < BIG) got += (await b.stream.recv(Math.min(1 << 20, BIG - got))).length;
      await big;
      await tail;
      assert.deepEqual([...(await b.stream.recv(3))], [1, 2, 3]);
      a.close();
      b.close();
    }
    // 2. Nobody reads: the write fails with WriteTimeout and poisons the connection.
    {
      const accepted = listener.accept();
      const a = await ctx.network.dial(listener.address);
      const b = await accepted;
      await assert.rejects(a.sink.send(new Uint8Array(BIG)), code('WriteTimeout'));
      await a.closed;
      b.close();
    }
  }));
