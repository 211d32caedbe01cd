import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as prom from 'prom-client';
import { deterministicRuntime, nodeRuntime } from '../../src/runtime/index.js';
import { MetricsRoot } from '../../src/runtime/metrics.js';

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

test('a counter holds one series per label set, however often it is bound; forget drops it', async () => {
  await deterministicRuntime({ seed: 3 }).run(async (ctx) => {
    const sent = ctx.metrics.counter('churned', 'Churned', ['peer']);
    // A long-running node without a scraper: every connection binds fresh handles and drops them.
    const n = 3079;
    for (let i = 0; i < n; i++) sent.bind!({ peer: String(i % 10) }).inc(2);
    const view = sent as unknown as { seriesHeld: number };
    assert.equal(view.seriesHeld, 10, 'one series per label set, however often it is bound');
    assert.equal(sent.bind!({ peer: '3' }), sent.bind!({ peer: '3' }));
    let total = 0;
    for (let p = 0; p < 10; p++) total += sent.get({ peer: String(p) });
    assert.equal(total, 2 * n, 'no increment lost');
    ctx.metrics.forget({ peer: '3' });
    assert.equal(view.seriesHeld, 9, 'forgetting a series drops it');
    assert.equal(sent.get({ peer: '3' }), 0);
  });
});

test('many series: each keeps its count, forget removes only its peer, and churn leaves nothing behind', async () => {
  await deterministicRuntime({ seed: 5 }).run(async (ctx) => {
    const net = ctx.child('net');
    const sent = net.metrics.counter('sent', 'Sent', ['peer', 'message']);
    const received = net.metrics.counter('received', 'Received', ['peer', 'message']);
    const connected = net.metrics.gauge('connected', 'Connected', ['peer']);
    const peers = 3000;
    const hex = (i: number) => i.toString(16).padStart(64, '0');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < peers; i++) {
        const peer = hex(i);
        sent.bind!({ peer, message: 'ping' }).inc(i % 7);
        received.bind!({ peer, message: 'ping' }).inc();
        if (i % 3 === 0) received.inc({ peer, message: 'data_0' }, i);
        connected.set({ peer }, 1_700_000_000_000 + i);
      }
      for (let i = 0; i < peers; i++) {
        const peer = hex(i);
        assert.equal(sent.get({ peer, message: 'ping' }), i % 7);
        assert.equal(received.get({ peer, message: 'ping' }), 1);
        assert.equal(received.get({ peer, message: 'data_0' }), i % 3 === 0 ? i : 0);
        assert.equal(connected.get({ peer }), 1_700_000_000_000 + i);
      }
      const text = await net.metrics.encode();
      assert.equal(text.match(/^net_received_total\{/gm)?.length, peers + peers / 3);
      assert.match(
        text,
        new RegExp(`^net_received_total\\{peer="${hex(2997)}",message="data_0"\\} 2997$`, 'm'),
      );
      // Every peer leaves: nothing of theirs is held, and the next round starts from zero.
      for (let i = 0; i < peers; i++) net.metrics.forget({ peer: hex(i) });
      const held = (c: object) => (c as { seriesHeld: number }).seriesHeld;
      assert.equal(held(sent) + held(received), 0);
      assert.equal(
        await net.metrics.encode(),
        [
          '# HELP net_connected Connected',
          '# TYPE net_connected gauge',
          '',
          '# HELP net_received_total Received',
          '# TYPE net_received_total counter',
          '',
          '# HELP net_sent_total Sent',
          '# TYPE net_sent_total counter',
          '',
        ].join('\n'),
      );
    }
  });
});

test('the exposition is the same text whether a series was counted through a bound handle or inc', async () => {
  const run = async (bound: boolean) =>
    deterministicRuntime({ seed: 6 }).run(async (ctx) => {
      const m = ctx.child('n').metrics;
      const sent = m.counter('messages_sent', 'Messages sent to peers', ['peer', 'message']);
      const dials = m.counter('dials', 'Dials');
      const gauge = m.gauge('connected', 'Connected peers', ['peer']);
      const counts: [string, string, number][] = [
        ['bb', 'ping', 2],
        ['aa', 'data_0', 5],
        ['aa', 'ping', 1],
        ['bb', 'ping', 3],
      ];
      const handles = new Map<string, { inc(v?: number): void }>();
      for (const [peer, message, n] of counts) {
        if (!bound) sent.inc({ peer, message }, n);
        else {
          const k = `${peer}/${message}`;
          if (!handles.has(k)) handles.set(k, sent.bind!({ peer, message }));
          handles.get(k)!.inc(n);
        }
      }
      // Bound but never counted: no series.
      sent.bind!({ peer: 'cc', message: 'ping' });
      gauge.set({ peer: 'aa' }, 1_700_000_000_123);
      gauge.set({ peer: 'bb' }, 0.5);
      gauge.remove({ peer: 'bb' });
      dials.inc();
      return ctx.metrics.encode();
    });
  const expected = [
    '# HELP n_connected Connected peers',
    '# TYPE n_connected gauge',
    'n_connected{peer="aa"} 1700000000123',
    '',
    '# HELP n_dials_total Dials',
    '# TYPE n_dials_total counter',
    'n_dials_total 1',
    '',
    '# HELP n_messages_sent_total Messages sent to peers',
    '# TYPE n_messages_sent_total counter',
    'n_messages_sent_total{peer="bb",message="ping"} 5',
    'n_messages_sent_total{peer="aa",message="data_0"} 5',
    'n_messages_sent_total{peer="aa",message="ping"} 1',
    '',
  ].join('\n');
  assert.equal((await run(false)).result, expected);
  assert.equal((await run(true)).result, expected);
});

test('bad values and unknown label names fail at the call site', async () => {
  await deterministicRuntime({ seed: 7 }).run(async (ctx) => {
    const c = ctx.metrics.counter('c', 'C', ['peer']);
    const g = ctx.metrics.gauge('g', 'G', ['peer']);
    assert.throws(() => c.inc({ peer: 'a' }, -1), /decrease/);
    assert.throws(() => c.inc({ peer: 'a' }, Number.NaN), TypeError);
    assert.throws(() => c.bind!({ peer: 'a' }).inc(-1), /decrease/);
    assert.throws(() => c.inc({ who: 'a' }), /not included in initial labelset/);
    assert.throws(() => c.bind!({ who: 'a' }), /not included in initial labelset/);
    assert.throws(() => g.set({ peer: 'a' }, 'x' as unknown as number), TypeError);
    assert.throws(() => g.set({ who: 'a' }, 1), /not included in initial labelset/);
    assert.equal(c.get({ who: 'a' }), 0, 'a read with an unknown label finds nothing');
    assert.equal(
      await ctx.metrics.encode(),
      '# HELP c_total C\n# TYPE c_total counter\n\n# HELP g G\n# TYPE g gauge\n',
    );
  });
});

test('a bound handle adds to its series across reads, and to a new one once the series was removed', async () => {
  await deterministicRuntime({ seed: 4 }).run(async (ctx) => {
    const sent = ctx.metrics.counter('pinged', 'Pinged', ['peer', 'message']);
    const held = sent.bind!({ peer: 'a', message: 'ping' });
    const other = sent.bind!({ peer: 'b', message: 'ping' });
    for (let round = 1; round <= 3; round++) {
      held.inc();
      other.inc(2);
      assert.equal(sent.get({ peer: 'a', message: 'ping' }), round);
      assert.equal(sent.get({ peer: 'b', message: 'ping' }), 2 * round);
    }
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

test('a handle kept past forget and a fresh one for the same labels count into one series', async () => {
  await deterministicRuntime({ seed: 8 }).run(async (ctx) => {
    const sent = ctx.metrics.counter('s', 'S', ['peer', 'message']);
    const labels = { peer: 'a', message: 'ping' };
    const old = sent.bind!(labels);
    old.inc(2);
    ctx.metrics.forget({ peer: 'a' });
    // The peer reconnects: its new connection binds (a new series) while the old one still counts.
    const fresh = sent.bind!(labels);
    assert.notEqual(fresh, old);
    fresh.inc(3);
    old.inc(4);
    sent.inc(labels, 5);
    assert.equal(sent.get(labels), 12);
    assert.equal((sent as unknown as { seriesHeld: number }).seriesHeld, 1);
    assert.match(await ctx.metrics.encode(), /^s_total\{peer="a",message="ping"\} 12$/m);
    // The live series goes too; the old handle's next count starts one afresh.
    ctx.metrics.forget({ peer: 'a' });
    old.inc();
    assert.equal(sent.get(labels), 1);
    fresh.inc();
    assert.equal(sent.get(labels), 2);
  });
});

test('the exposition matches prom-client fed the same operations (random sequences)', async () => {
  const peers = ['aa', 'bb', 'cc', 7];
  const messages = ['ping', 'data_0', 3];
  for (let seed = 1; seed <= 60; seed++) {
    let x = seed;
    const next = (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    const root = new MetricsRoot();
    const m = root.view('');
    const sent = m.counter('sent', 'Sent', ['peer', 'message']);
    const upd = m.counter('upd', 'Upd', ['peer']);
    const plain = m.counter('plain', 'Plain');
    const conn = m.gauge('conn', 'Conn', ['peer']);
    // The reference: prom-client's own metrics, registered in exposition (name) order.
    const reg = new prom.Registry();
    const registers = [reg];
    const rConn = new prom.Gauge({ name: 'conn', help: 'Conn', labelNames: ['peer'], registers });
    const rPlain = new prom.Counter({ name: 'plain_total', help: 'Plain', registers });
    const rSent = new prom.Counter({
      name: 'sent_total',
      help: 'Sent',
      labelNames: ['peer', 'message'],
      registers,
    });
    const rUpd = new prom.Counter({
      name: 'upd_total',
      help: 'Upd',
      labelNames: ['peer'],
      registers,
    });
    for (let i = 0; i < 80; i++) {
      const peer = peers[next(peers.length)]!;
      const message = messages[next(messages.length)]!;
      const v = next(4);
      switch (next(8)) {
        case 0:
          sent.inc({ peer, message }, v);
          rSent.inc({ peer, message }, v);
          break;
        case 1:
        case 2:
          // A bound handle counts nothing (and makes no series) for 0.
          sent.bind!({ peer, message }).inc(v);
          if (v > 0) rSent.inc({ peer, message }, v);
          break;
        case 3:
          upd.inc({ peer });
          rUpd.inc({ peer });
          break;
        case 4:
          plain.inc(undefined, v);
          rPlain.inc(v);
          break;
        case 5:
          conn.set({ peer }, 1_700_000_000_000 + v / 4);
          rConn.set({ peer }, 1_700_000_000_000 + v / 4);
          break;
        case 6:
          conn.remove({ peer });
          rConn.remove({ peer });
          break;
        default:
          m.forget({ peer });
          for (const mm of messages) rSent.remove({ peer, message: mm });
          rUpd.remove({ peer });
          rConn.remove({ peer });
      }
      if (next(5) === 0)
        assert.equal(await m.encode(), await reg.metrics(), `seed ${seed} op ${i}`);
    }
    assert.equal(await m.encode(), await reg.metrics(), `seed ${seed}`);
  }
});
