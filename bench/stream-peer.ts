/**
 * Worker process of the stream benchmark (forked by bench/stream.ts). One worker plays the server
 * (listens on 127.0.0.1, port 0, and serves every connection) or the client (dials and times the
 * measurements). Both use `nodeRuntime` and the public `authp2p/stream` API. The protocol mirrors
 * bench/libp2p/run.mjs (see PROTOCOL there) with one encrypted stream per connection instead of
 * yamux streams: the first message of each exchange is a header naming it.
 *
 * IPC: the parent sends `{ id, cmd, params }`; the worker answers `{ id, ok, result | error }`.
 */

import * as net from 'node:net';
import { ed25519 } from '../src/crypto/index.js';
import type { Connection, Context } from '../src/runtime/index.js';
import { nodeRuntime } from '../src/runtime/index.js';
import { Config, dial, listen, type Session } from '../src/stream/index.js';
import {
  cpuTimeUs,
  type Handler,
  nowNs,
  p50p99us,
  percentileSorted,
  round,
  secondsSince,
  serveRequests,
} from './common.js';

// ---------- Exchange headers: [kind, u64 BE argument] ----------
const BULK = 1; // argument: payload bytes that follow; the server acks 1 byte after the last
const MSGS = 2; // argument: messages that follow; the server acks 1 byte after the last
const ECHO = 3; // argument: messages the server echoes back, one by one

/** The ack carries the CPU time (user + system, us) the server spent on the exchange. */
function cpuAck(since: NodeJS.CpuUsage): Uint8Array {
  const ack = new Uint8Array(8);
  new DataView(ack.buffer).setFloat64(0, cpuTimeUs(since), false);
  return ack;
}

function ackCpu(ack: Uint8Array): number {
  return new DataView(ack.buffer, ack.byteOffset, ack.byteLength).getFloat64(0, false);
}
const SERVER_KEY = ed25519.PrivateKey.fromSeed(1000n);
const NAMESPACE = new TextEncoder().encode('authp2p-bench_STREAM');

function streamConfig(signer: ed25519.PrivateKey): Config {
  return new Config({
    signer,
    namespace: NAMESPACE,
    maxMessageSize: 1 << 20,
    synchronyBoundMs: 5_000,
    maxHandshakeAgeMs: 10_000,
    handshakeTimeoutMs: 5_000,
  });
}

function header(kind: number, arg: number): Uint8Array {
  const h = new Uint8Array(9);
  h[0] = kind;
  new DataView(h.buffer).setBigUint64(1, BigInt(arg), false);
  return h;
}

// ---------- Server ----------

async function serve(ctx: Context, config: Config, conn: Connection): Promise<void> {
  let session: Session;
  try {
    session = await listen(ctx, config, conn, () => true);
  } catch {
    return;
  }
  const { sender, receiver } = session;
  try {
    for (;;) {
      const h = await receiver.recv();
      const arg = Number(new DataView(h.buffer, h.byteOffset, h.byteLength).getBigUint64(1, false));
      switch (h[0]) {
        case BULK: {
          const cpu = process.cpuUsage();
          let got = 0;
          while (got < arg) got += (await receiver.recv()).length;
          await sender.send(cpuAck(cpu));
          break;
        }
        case MSGS: {
          const cpu = process.cpuUsage();
          for (let i = 0; i < arg; i++) await receiver.recv();
          await sender.send(cpuAck(cpu));
          break;
        }
        case ECHO: {
          for (let i = 0; i < arg; i++) await sender.send(await receiver.recv());
          break;
        }
        default:
          throw new Error(`unknown header ${h[0]}`);
      }
    }
  } catch {
    // The client closed the connection.
  } finally {
    conn.close();
  }
}

async function serverStart(ctx: Context): Promise<{ port: number }> {
  const listener = await ctx.network.bind({ ip: '127.0.0.1', port: 0 });
  const config = streamConfig(SERVER_KEY);
  ctx.spawn('accept', async (child) => {
    try {
      for (;;) {
        const conn = await listener.accept(child.signal);
        serve(child, config, conn).then(undefined, () => {});
      }
    } catch {
      listener.close();
    }
  });
  return { port: listener.address.port };
}

// ---------- Client ----------

const clientKeys = Array.from({ length: 16 }, (_, i) =>
  streamConfig(ed25519.PrivateKey.fromSeed(BigInt(i + 1))),
);
let main: { port: number; session: Session; conn: Connection } | undefined;

async function connect(
  ctx: Context,
  port: number,
  lane = 0,
): Promise<{ session: Session; conn: Connection }> {
  const conn = await ctx.network.dial({ ip: '127.0.0.1', port });
  const session = await dial(
    ctx,
    clientKeys[lane % clientKeys.length]!,
    conn,
    SERVER_KEY.publicKey,
  );
  return { session, conn };
}

async function mainSession(ctx: Context, port: number): Promise<Session> {
  if (main === undefined || main.port !== port) {
    main?.conn.close();
    const c = await connect(ctx, port);
    main = { port, ...c };
  }
  return main.session;
}

/**
 * Sends `count` messages as sendMany batches of `batchSize`, keeping two batches outstanding so
 * the next batch is sealed while the previous one drains into the socket.
 */
async function pipelined(
  count: number,
  batchSize: number,
  sendBatch: (n: number) => Promise<void>,
): Promise<void> {
  let previous: Promise<void> = Promise.resolve();
  for (let sent = 0; sent < count; sent += batchSize) {
    const current = sendBatch(Math.min(batchSize, count - sent));
    current.catch(() => {});
    await previous;
    previous = current;
  }
  await previous;
}

async function bulk(
  ctx: Context,
  p: { port: number; totalBytes: number; chunkBytes: number; batch?: number },
): Promise<{ MBps: number; seconds: number; senderCpuMBps: number; receiverCpuMBps: number }> {
  const { sender, receiver } = await mainSession(ctx, p.port);
  const batchSize = p.batch ?? 16;
  const chunk = new Uint8Array(p.chunkBytes).fill(7);
  const count = Math.ceil(p.totalBytes / p.chunkBytes);
  const batch = Array.from({ length: batchSize }, () => chunk);
  await sender.send(header(BULK, count * p.chunkBytes));
  const cpu = process.cpuUsage();
  const t0 = nowNs();
  await pipelined(count, batchSize, (n) =>
    sender.sendMany(n === batchSize ? batch : batch.slice(0, n)),
  );
  const ack = await receiver.recv();
  const seconds = secondsSince(t0);
  const bytes = count * p.chunkBytes;
  return {
    MBps: round(bytes / 1e6 / seconds),
    seconds: round(seconds, 3),
    // CPU-bound capacity of each side (MB per CPU-second): robust to other load on the machine.
    senderCpuMBps: round(bytes / cpuTimeUs(cpu)),
    receiverCpuMBps: round(bytes / ackCpu(ack)),
  };
}

async function msgs(
  ctx: Context,
  p: { port: number; size: number; count: number; batch?: number },
): Promise<{
  msgsPerSec: number;
  seconds: number;
  senderCpuUsPerMsg: number;
  receiverCpuUsPerMsg: number;
}> {
  const { sender, receiver } = await mainSession(ctx, p.port);
  const batchSize = p.batch ?? 256;
  const batch = Array.from({ length: batchSize }, (_, i) => new Uint8Array(p.size).fill(i));
  await sender.send(header(MSGS, p.count));
  const cpu = process.cpuUsage();
  const t0 = nowNs();
  await pipelined(p.count, batchSize, (n) =>
    sender.sendMany(n === batchSize ? batch : batch.slice(0, n)),
  );
  const ack = await receiver.recv();
  const seconds = secondsSince(t0);
  return {
    msgsPerSec: Math.round(p.count / seconds),
    seconds: round(seconds, 3),
    senderCpuUsPerMsg: round(cpuTimeUs(cpu) / p.count, 2),
    receiverCpuUsPerMsg: round(ackCpu(ack) / p.count, 2),
  };
}

async function rtt(
  ctx: Context,
  p: { port: number; size: number; warmup: number; count: number },
): Promise<{ p50us: number; p99us: number }> {
  const { sender, receiver } = await mainSession(ctx, p.port);
  const request = new Uint8Array(p.size).fill(3);
  await sender.send(header(ECHO, p.warmup + p.count));
  for (let i = 0; i < p.warmup; i++) {
    await sender.send(request);
    await receiver.recv();
  }
  const samples = new Float64Array(p.count);
  for (let i = 0; i < p.count; i++) {
    const t0 = nowNs();
    await sender.send(request);
    await receiver.recv();
    samples[i] = Number(nowNs() - t0) / 1e3;
  }
  return p50p99us(samples);
}

async function conns(
  ctx: Context,
  p: { port: number; total: number; concurrency: number; size?: number },
): Promise<{
  perSec: number;
  clientCpuUsPerConn: number;
  latencyP50ms: number;
  latencyP99ms: number;
}> {
  const payload = new Uint8Array(p.size ?? 32).fill(5);
  const echoHeader = header(ECHO, 1);
  const latencies = new Float64Array(p.total);
  let next = 0;
  const lane = async (id: number): Promise<void> => {
    for (let i = next++; i < p.total; i = next++) {
      const s = nowNs();
      const { session, conn } = await connect(ctx, p.port, id);
      await session.sender.sendMany([echoHeader, payload]);
      await session.receiver.recv();
      latencies[i] = Number(nowNs() - s) / 1e6;
      conn.close();
    }
  };
  const cpu = process.cpuUsage();
  const t0 = nowNs();
  await Promise.all(Array.from({ length: Math.min(p.concurrency, p.total) }, (_, id) => lane(id)));
  const seconds = secondsSince(t0);
  latencies.sort();
  return {
    perSec: round(p.total / seconds),
    clientCpuUsPerConn: round(cpuTimeUs(cpu) / p.total),
    latencyP50ms: round(percentileSorted(latencies, 50), 2),
    latencyP99ms: round(percentileSorted(latencies, 99), 2),
  };
}

// ---------- Raw TCP reference (the floor under any protocol on this machine) ----------

async function rawStart(): Promise<{ port: number }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return { port: (server.address() as net.AddressInfo).port };
}

async function rawRtt(
  _ctx: Context,
  p: { port: number; size: number; warmup: number; count: number },
): Promise<{ p50us: number; p99us: number }> {
  const socket = net.connect(p.port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  let got = 0;
  let wake: () => void = () => {};
  socket.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= p.size) {
      got -= p.size;
      wake();
    }
  });
  const request = Buffer.alloc(p.size, 3);
  const samples = new Float64Array(p.count);
  for (let i = 0; i < p.warmup + p.count; i++) {
    const t0 = nowNs();
    const echoed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    socket.write(request);
    await echoed;
    if (i >= p.warmup) samples[i - p.warmup] = Number(nowNs() - t0) / 1e3;
  }
  socket.destroy();
  return p50p99us(samples);
}

// ---------- IPC ----------

const handlers: Record<string, Handler<Context>> = {
  /** This process's CPU time (user + system) in microseconds. */
  cpu: async () => cpuTimeUs(),
  serverStart,
  rawStart,
  bulk,
  msgs,
  rtt,
  rawRtt,
  conns,
};

// No read timeout: in an interleaved comparison a session idles while the other contenders run
// (a minute and more on a loaded machine), and the runtime's default would close it.
await nodeRuntime({ readTimeoutMs: Number.POSITIVE_INFINITY }).run(async (ctx) => {
  await serveRequests('stream-peer', ctx, handlers);
  main?.conn.close();
});
process.exit(0);
