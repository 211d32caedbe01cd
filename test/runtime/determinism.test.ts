import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Connection,
  type Context,
  deterministicRuntime,
  simulatedNetwork,
  withNetwork,
} from '../../src/runtime/index.js';

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

async function readFrame(conn: Connection): Promise<Uint8Array> {
  const len = new DataView((await conn.stream.recv(4)).slice().buffer).getUint32(0);
  return conn.stream.recv(len);
}

/** Serves echo-with-a-twist: each frame comes back reversed after a random think time. */
async function serve(ctx: Context, conn: Connection): Promise<void> {
  for (;;) {
    let frame: Uint8Array;
    try {
      frame = await readFrame(conn);
    } catch {
      return;
    }
    await ctx.clock.sleep(ctx.rng.int(0, 20), ctx.signal);
    const reply = frame.slice().reverse();
    await conn.sink.send([u32(reply.length), reply]);
  }
}

/** Several tasks, timers, listeners, dials, bytes and random draws, all interleaved. */
async function program(ctx: Context): Promise<string[]> {
  const log: string[] = [];
  const t0 = ctx.clock.now();
  const note = (s: string): void => {
    log.push(`${ctx.clock.now() - t0}:${s}`);
  };
  const sim = simulatedNetwork(ctx);
  sim.setLinkDelay('10.0.0.1', '127.0.0.1', 7);
  sim.setLinkDelay('127.0.0.1', '10.0.0.1', 3);
  sim.setDns('servers.test', ['127.0.0.1']);

  const listeners = await Promise.all(
    [0, 0, 0].map(() => ctx.network.bind({ ip: '127.0.0.1', port: 0 })),
  );
  for (const [i, listener] of listeners.entries()) {
    ctx.spawn(`server${i}`, async (sctx) => {
      for (;;) {
        const conn = await listener.accept(sctx.signal);
        note(`server${i} accepted ${conn.remote.ip}`);
        sctx.spawn('conn', (cctx) => serve(cctx, conn));
      }
    });
  }

  const ticker = ctx.spawn('ticker', async (tctx) => {
    for (let i = 0; i < 20; i++) {
      await tctx.clock.sleep(13, tctx.signal);
      if (tctx.rng.float() < 0.3) note(`tick ${i}`);
    }
  });

  const clients = [0, 1, 2, 3, 4].map((c) => {
    const cctx = c % 2 === 0 ? ctx : withNetwork(ctx, sim.host('10.0.0.1'));
    return cctx.spawn(`client${c}`, async (k) => {
      await k.clock.sleep(k.rng.int(0, 100));
      const [ip] = await k.network.resolve('servers.test');
      const target = listeners[k.rng.int(0, listeners.length)]!.address;
      const conn = await k.network.dial({ ip: ip!, port: target.port });
      let sum = 0;
      for (let r = 0; r < 5; r++) {
        const payload = k.rng.bytes(k.rng.int(1, 5000));
        await conn.sink.send([u32(payload.length), payload]);
        const back = await readFrame(conn);
        assert.deepEqual(back, payload.slice().reverse());
        sum += back.length;
      }
      conn.close();
      note(`client${c} done ${sum}`);
      return sum;
    });
  });

  const refused = await ctx.network.dial({ ip: '127.0.0.1', port: 1 }).then(
    () => 'connected',
    (e: Error) => e.message,
  );
  note(refused);
  const sums = await Promise.all(clients.map((h) => h.done));
  await ticker.done;
  note(`sums ${sums.join(',')} u64 ${ctx.rng.u64()} ${enc.encode('x').length}`);
  return log;
}

test('the same seed gives the same result and digest, another seed a different digest', async () => {
  const a = await deterministicRuntime({ seed: 42 }).run(program);
  const b = await deterministicRuntime({ seed: 42 }).run(program);
  const c = await deterministicRuntime({ seed: 43 }).run(program);
  assert.ok(a.result.length > 10, 'the program did something');
  assert.deepEqual(b.result, a.result);
  assert.equal(b.digest, a.digest);
  assert.match(a.digest, /^[0-9a-f]{64}$/);
  assert.notEqual(c.digest, a.digest);
  assert.notDeepEqual(c.result, a.result);
});

test('the digest changes when only the bytes sent change', async () => {
  const send = (byte: number) => async (ctx: Context) => {
    const l = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
    const accepted = l.accept();
    const conn = await ctx.network.dial(l.address);
    await conn.sink.send(new Uint8Array([byte]));
    await (await accepted).stream.recv(1);
    return 0;
  };
  const a = await deterministicRuntime({ seed: 1 }).run(send(1));
  const b = await deterministicRuntime({ seed: 1 }).run(send(2));
  assert.notEqual(a.digest, b.digest);
});

test('the seeded rng is reproducible and seeds are validated', async () => {
  const draw = async (ctx: Context) => [
    ctx.rng.int(0, 1000),
    ctx.rng.float(),
    ctx.rng.u64().toString(),
    Buffer.from(ctx.rng.bytes(8)).toString('hex'),
    ctx.rng.shuffle([1, 2, 3, 4, 5, 6]).join(''),
  ];
  const a = await deterministicRuntime({ seed: 9n }).run(draw);
  const b = await deterministicRuntime({ seed: 9 }).run(draw);
  assert.deepEqual(a.result, b.result);
  assert.throws(() => deterministicRuntime({ seed: -1 }), RangeError);
  assert.throws(() => deterministicRuntime({ seed: 1n << 64n }), RangeError);
});
