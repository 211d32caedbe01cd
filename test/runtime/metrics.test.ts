import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deterministicRuntime, nodeRuntime } from '../../src/runtime/index.js';
import { MAX_DIRTY } from '../../src/runtime/metrics.js';

test('child contexts prefix metric names and encode only their own metrics', async () => {
  await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
    const peer1 = ctx.child('peer1');
    const peer2 = ctx.child('peer2');
    const sent1 = peer1.metrics.counter('messages_sent', 'Messages sent', ['channel']);
    const sent2 = peer2.metrics.counter('messages_sent', 'Messages sent', ['channel']);
    sent1.inc({ channel: 1 });
    sent1.inc({ channel: 1 }, 2);
    sent1.inc({ channel: 2 });
    sent2.inc({ channel: 1 }, 10);
    assert.equal(sent1.get({ channel: 1 }), 3);
    assert.equal(sent1.get({ channel: '2' }), 1);
    assert.equal(sent1.get({ channel: 3 }), 0);
    assert.equal(sent2.get({ channel: 1 }), 10);

    // Registering again returns the same metric.
    const again = ctx.child('peer1').metrics.counter('messages_sent', 'ignored', ['channel']);
    again.inc({ channel: 1 });
    assert.equal(sent1.get({ channel: 1 }), 4);
    assert.throws(() => peer1.metrics.gauge('messages_sent', 'clash'), TypeError);

    const gauge = peer1.child('tracker').metrics.gauge('peers', 'Connected peers');
    gauge.set(undefined, 5);
    gauge.inc();
    gauge.dec(undefined, 3);
    assert.equal(gauge.get(), 3);
    const labelled = peer1.metrics.gauge('blocked', 'Blocked', ['kind']);
    labelled.set({ kind: 'a' }, 1);
    labelled.remove({ kind: 'a' });
    assert.equal(labelled.get({ kind: 'a' }), 0);
    peer1.metrics.histogram('latency_ms', 'Latency', [1, 10, 100]).observe(undefined, 7);

    const text1 = await peer1.metrics.encode();
    assert.match(text1, /^# HELP peer1_blocked Blocked$/m);
    assert.match(text1, /^peer1_messages_sent_total\{channel="1"\} 4$/m);
    assert.match(text1, /^peer1_tracker_peers 3$/m);
    assert.match(text1, /^peer1_latency_ms_bucket\{le="10"\} 1$/m);
    assert.doesNotMatch(text1, /peer2_/);
    const text2 = await peer2.metrics.encode();
    assert.match(text2, /^peer2_messages_sent_total\{channel="1"\} 10$/m);
    assert.doesNotMatch(text2, /peer1_/);
    const all = await ctx.metrics.encode();
    assert.match(all, /peer1_messages_sent/);
    assert.match(all, /peer2_messages_sent/);
    assert.equal(await ctx.child('nobody').metrics.encode(), '');
  });
});

test('each runtime has its own registry', async () => {
  const count = (ctx: Parameters<Parameters<ReturnType<typeof nodeRuntime>['run']>[0]>[0]) => {
    const c = ctx.metrics.counter('runs', 'Runs');
    c.inc();
    return c.get();
  };
  assert.equal(await nodeRuntime().run(async (ctx) => count(ctx)), 1);
  assert.equal(await nodeRuntime().run(async (ctx) => count(ctx)), 1);
});

test('forget removes the matching series of every family under the context, and only those', async () => {
  await deterministicRuntime({ seed: 2 }).run(async (ctx) => {
    const net = ctx.child('n');
    const sent = net.child('spawner').metrics.counter('sent', 'Sent', ['peer', 'message']);
    const bound = sent.bind!({ peer: 'aa', message: 'data_0' });
    bound.inc(3);
    sent.inc({ peer: 'aa', message: 'ping' });
    sent.inc({ peer: 'bb', message: 'ping' }, 2);
    const connected = net.child('tracker').metrics.gauge('connected', 'Connected', ['peer']);
    connected.set({ peer: 'aa' }, 1);
    connected.set({ peer: 'bb' }, 1);
    const byKind = net.metrics.counter('dials', 'Dials', ['kind']);
    byKind.inc({ kind: 'aa' });
    const elsewhere = ctx.child('other').metrics.gauge('connected', 'Connected', ['peer']);
    elsewhere.set({ peer: 'aa' }, 1);

    net.metrics.forget({ peer: 'aa' });
    const text = await ctx.metrics.encode();
    assert.doesNotMatch(text, /^n_\w+\{[^}]*peer="aa"/m, 'no series of aa is left under n');
    assert.match(text, /^n_spawner_sent_total\{peer="bb",message="ping"\} 2$/m);
    assert.match(text, /^n_tracker_connected\{peer="bb"\} 1$/m);
    assert.match(
      text,
      /^n_dials_total\{kind="aa"\} 1$/m,
      'a family without the label is untouched',
    );
    assert.match(text, /^other_connected\{peer="aa"\} 1$/m, 'another context is untouched');
    assert.equal(sent.get({ peer: 'aa', message: 'data_0' }), 0, 'pending bound counts too');
    // A later increment starts a fresh series.
    sent.inc({ peer: 'aa', message: 'ping' });
    assert.equal(sent.get({ peer: 'aa', message: 'ping' }), 1);
  });
});

test('bound counters that nobody reads do not pile up: the dirty set is flushed at its cap', async () => {
  await deterministicRuntime({ seed: 3 }).run(async (ctx) => {
    const sent = ctx.metrics.counter('churned', 'Churned', ['peer']);
    // A long-running node without a scraper: every connection binds fresh handles and drops them.
    const n = MAX_DIRTY * 3 + 7;
    for (let i = 0; i < n; i++) sent.bind!({ peer: String(i % 10) }).inc(2);
    const view = sent as unknown as { dirtyHandles: number; boundHandles: number };
    assert.ok(view.dirtyHandles < MAX_DIRTY, `${view.dirtyHandles} handles held`);
    assert.equal(view.boundHandles, 10, 'one handle per series, however often it is bound');
    assert.equal(sent.bind!({ peer: '3' }), sent.bind!({ peer: '3' }));
    let total = 0;
    for (let p = 0; p < 10; p++) total += sent.get({ peer: String(p) });
    assert.equal(total, 2 * n, 'no increment lost across flushes');
    assert.equal(view.dirtyHandles, 0);
    ctx.metrics.forget({ peer: '3' });
    assert.equal(view.boundHandles, 9, 'forgetting a series drops its handle');
    for (let i = 0; i < 2 * MAX_DIRTY; i++) sent.bind!({ peer: `x${i}` }).inc();
    assert.ok(view.dirtyHandles < MAX_DIRTY, 'many live series: still folded in at the cap');
    assert.equal(sent.get({ peer: `x${2 * MAX_DIRTY - 1}` }), 1);
  });
});

test('a bound handle adds to its stored series across flushes, and to a new one once the series was removed', async () => {
  await deterministicRuntime({ seed: 4 }).run(async (ctx) => {
    const sent = ctx.metrics.counter('pinged', 'Pinged', ['peer', 'message']);
    const held = sent.bind!({ peer: 'a', message: 'ping' });
    const other = sent.bind!({ peer: 'b', message: 'ping' });
    for (let round = 1; round <= 3; round++) {
      held.inc();
      other.inc(2);
      // Each read flushes: the first through prom-client, the later ones into the stored sample.
      assert.equal(sent.get({ peer: 'a', message: 'ping' }), round);
      assert.equal(sent.get({ peer: 'b', message: 'ping' }), 2 * round);
    }
    assert.ok((held as unknown as { sample?: object }).sample, 'the handle holds its sample');
    assert.match(await ctx.metrics.encode(), /^pinged_total\{peer="a",message="ping"\} 3$/m);
    // The series is removed while a connection still holds its handle: counting starts afresh
    // in a new series rather than vanishing into the removed sample.
    ctx.metrics.forget({ peer: 'a' });
    assert.equal(sent.get({ peer: 'a', message: 'ping' }), 0);
    held.inc(5);
    assert.equal(sent.get({ peer: 'a', message: 'ping' }), 5);
    held.inc();
    assert.equal(sent.get({ peer: 'a', message: 'ping' }), 6);
    assert.equal(sent.get({ peer: 'b', message: 'ping' }), 6);
  });
});
