/**
 * Micro-benchmarks for the actor primitives and rate limiters (single process, no network).
 *
 * Build with the test config and run `node build/bench/runtime.js`. Prints a table and one JSON
 * line (`{"bench":"runtime",...}`) for tracking.
 */
import type { Responder } from '../src/actor/index.js';
import { mailbox, reliable, select, unreliable } from '../src/actor/index.js';
import { KeyedRateLimiter, Quota, RateLimiter } from '../src/quota/index.js';
import type { Clock } from '../src/runtime/context.js';
import { deterministicRuntime } from '../src/runtime/index.js';

const DONE = new Error('iteration done');

/** A wall-clock Clock for the bench (the runtime's own is not needed here). */
const clock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => clock.sleepUntil(Date.now() + ms, signal),
  sleepUntil: (t, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, t - Date.now()),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

async function measure(name: string, ops: number, fn: () => Promise<void> | void): Promise<Row> {
  await fn(); // warm-up run
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  return { name, ops, ms, perSecond: (ops / ms) * 1000, nsPerOp: (ms * 1e6) / ops };
}

interface Row {
  name: string;
  ops: number;
  ms: number;
  perSecond: number;
  nsPerOp: number;
}

const rows: Row[] = [];

// 1. Mailbox throughput: synchronous fast path + batch drain, single producer.
{
  const N = 1024 * 20_000;
  const CAP = 1024;
  const [tx, rx] = mailbox<number>(CAP, unreliable());
  rows.push(
    await measure('mailbox enqueue+drain (sync, cap 1024)', N, () => {
      let sum = 0;
      for (let i = 0; i < N; i += CAP) {
        for (let k = 0; k < CAP; k++) tx.enqueue(k);
        const batch = rx.drain(CAP);
        sum += batch.length;
      }
      if (sum !== N) throw new Error('lost messages');
    }),
  );
  rows.push(
    await measure('mailbox enqueue+tryRecv (sync, cap 1024)', N, () => {
      let sum = 0;
      for (let i = 0; i < N; i += CAP) {
        for (let k = 0; k < CAP; k++) tx.enqueue(k);
        for (let m = rx.tryRecv(); m !== undefined; m = rx.tryRecv()) sum++;
      }
      if (sum !== N) throw new Error('lost messages');
    }),
  );
}

// 2. Mailbox, async producer/consumer tasks (consumer awaits ready(), drains batches).
{
  const N = 5_000_000;
  rows.push(
    await measure('mailbox async producer/consumer (reliable, cap 1024)', N, async () => {
      const [tx, rx] = mailbox<number>(1024, reliable());
      let got = 0;
      const consumer = (async () => {
        while (await rx.ready()) got += rx.drain(1024).length;
      })();
      for (let i = 0; i < N; i++) {
        if (tx.enqueue(i) !== 'ok') await Promise.resolve(); // yield on backpressure
      }
      while (rx.size > 0) await Promise.resolve();
      rx.close();
      await consumer;
      if (got !== N) throw new Error(`lost messages ${got}`);
    }),
  );
}

// 3. Request/response round trips.
type Req = { x: number; responder: Responder<number> };
async function serve(rx: ReturnType<typeof mailbox<Req>>[1]): Promise<void> {
  while (await rx.ready()) for (const m of rx.drain(256)) m.responder.send(m.x + 1);
}
{
  const N = 1_000_000;
  rows.push(
    await measure('request/response, sequential', N, async () => {
      const [tx, rx] = mailbox<Req>(64, reliable());
      const server = serve(rx);
      for (let i = 0; i < N; i++) {
        const r = await tx.request<number>((responder) => ({ x: i, responder }));
        if (r !== i + 1) throw new Error('bad answer');
      }
      rx.close();
      await server;
    }),
  );
  rows.push(
    await measure('request/response, 256 in flight', N, async () => {
      const [tx, rx] = mailbox<Req>(256, reliable());
      const server = serve(rx);
      for (let i = 0; i < N; i += 256) {
        const batch: Promise<number | undefined>[] = [];
        for (let k = 0; k < 256; k++)
          batch.push(tx.request<number>((responder) => ({ x: k, responder })));
        await Promise.all(batch);
      }
      rx.close();
      await server;
    }),
  );
}

// 4. select overhead per iteration: ready arm vs a sleep arm (the sleep always loses).
{
  const N = 500_000;
  const [tx, rx] = mailbox<number>(16, reliable());
  const stop = new AbortController();
  rows.push(
    await measure('select ready+sleep, per-iteration AbortController', N, async () => {
      for (let i = 0; i < N; i++) {
        tx.enqueue(i);
        const it = new AbortController();
        const arm = await select(
          stop.signal,
          rx.ready(it.signal),
          clock.sleepUntil(clock.now() + 60_000, it.signal),
        );
        it.abort(DONE);
        if (arm !== 0) throw new Error('wrong arm');
        rx.drain();
      }
    }),
  );
  rows.push(
    await measure('select ready+sleep, sleep reused across iterations', N, async () => {
      const timer = new AbortController();
      const sleep = clock.sleepUntil(clock.now() + 60_000, timer.signal);
      for (let i = 0; i < N; i++) {
        tx.enqueue(i);
        const arm = await select(stop.signal, rx.ready(), sleep);
        if (arm !== 0) throw new Error('wrong arm');
        rx.drain();
      }
      timer.abort(DONE);
      await sleep.catch(() => {});
    }),
  );
  rows.push(
    await measure('select ready+sleep, sleep wins (message-less loop)', N, async () => {
      const resolved = Promise.resolve();
      for (let i = 0; i < N; i++) {
        // A fresh settled "timer" each iteration; ready() keeps returning one shared promise.
        const arm = await select(
          stop.signal,
          rx.ready(),
          i % 2 === 0 ? Promise.resolve() : resolved,
        );
        if (arm !== 1) throw new Error('wrong arm');
      }
    }),
  );
}

// 5. Rate limiters.
{
  const N = 10_000_000;
  const fake = {
    t: 1_700_000_000_000,
    now(): number {
      return this.t;
    },
  };
  const keys = Array.from({ length: 1000 }, (_, i) => `peer-${i.toString(16).padStart(64, '0')}`);
  rows.push(
    await measure('keyed limiter check (1000 hex keys)', N, () => {
      const rl = new KeyedRateLimiter<string>(Quota.perSecond(1000), fake);
      let passed = 0;
      for (let i = 0; i < N; i++) {
        if ((i & 1023) === 0) fake.t += 1;
        if (rl.check(keys[i % 1000] as string) === true) passed++;
      }
      if (passed === 0) throw new Error('nothing passed');
    }),
  );
  rows.push(
    await measure('direct limiter check', N, () => {
      const rl = new RateLimiter(Quota.perSecond(1_000_000), fake);
      for (let i = 0; i < N; i++) {
        if ((i & 1023) === 0) fake.t += 1;
        rl.check();
      }
    }),
  );
}

// ---------- Deterministic runtime: virtual timer events ----------
{
  const TIMERS = 1_000_000;
  const TASKS = 100;
  rows.push(
    await measure('deterministic timer events (100 tasks x 10k sleeps)', TIMERS, async () => {
      await deterministicRuntime({ seed: 1 }).run(async (ctx) => {
        const handles = [];
        for (let t = 0; t < TASKS; t++) {
          handles.push(
            ctx.spawn(`sleeper${t}`, async (c) => {
              for (let i = 0; i < TIMERS / TASKS; i++) await c.clock.sleep(1 + (i % 7));
            }),
          );
        }
        for (const h of handles) await h.done;
      });
    }),
  );
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d });
console.log(`${'benchmark'.padEnd(58)} ${'ops/s'.padStart(14)} ${'ns/op'.padStart(10)}`);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(58)} ${fmt(r.perSecond).padStart(14)} ${fmt(r.nsPerOp, 1).padStart(10)}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'runtime',
    node: process.version,
    results: Object.fromEntries(
      rows.map((r) => [
        r.name,
        { opsPerSecond: Math.round(r.perSecond), nsPerOp: +r.nsPerOp.toFixed(1) },
      ]),
    ),
  }),
);
