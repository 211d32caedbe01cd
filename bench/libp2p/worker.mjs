// js-libp2p worker process for the side-by-side benchmark (forked by run.mjs).
//
// One worker plays either the server role (one listening libp2p node with the
// bench protocols) or the client role (one or more dialing libp2p nodes that
// drive the measurements and time them). The roles talk only over loopback
// TCP; run.mjs relays the server's listen multiaddr to the client over IPC.
// See PROTOCOL in run.mjs for what each measurement does.

import './shim.mjs';

import { setTimeout as sleep } from 'node:timers/promises';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import * as lp from 'it-length-prefixed';
import { createLibp2p } from 'libp2p';
import {
  mean,
  nowNs,
  percentileSorted,
  rawTcpHandlers,
  round,
  runPool,
  sampleMemory,
  secondsSince,
  serveWorker,
  withTimeout,
} from './common.mjs';

const BULK = '/bench/bulk/1.0.0';
const MSGS = '/bench/msgs/1.0.0';
const ECHO = '/bench/echo/1.0.0';

// Limits raised so that the memory test can hold 1000+ connections from one
// host and the connection test can open hundreds of connections per second
// from 127.0.0.1 (the default inboundConnectionThreshold is 5/s per host).
const CONNECTION_MANAGER = {
  maxConnections: 20_000,
  maxParallelDials: 1_000,
  maxDialQueueLength: 20_000,
  maxIncomingPendingConnections: 1_000,
  inboundConnectionThreshold: 1_000_000,
  dialTimeout: 30_000,
  inboundUpgradeTimeout: 30_000,
};
const HANDLER_OPTS = { maxInboundStreams: 1_024, maxOutboundStreams: 1_024 };

/** A libp2p node with TCP + Noise + Yamux and nothing else (no identify, ping, discovery). */
async function makeNode({ listen }) {
  const privateKey = await generateKeyPair('Ed25519');
  return createLibp2p({
    privateKey,
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp({ backlog: 4_096 })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: 1_024, maxOutboundStreams: 1_024 })],
    connectionManager: CONNECTION_MANAGER,
    // The connection monitor pings every peer over /ipfs/ping/1.0.0 and aborts
    // the connection when ping fails; no ping service runs here, so turn it off.
    connectionMonitor: { enabled: false },
    services: {},
  });
}

const u32 = (n) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const readU32 = (list) =>
  new DataView(list.subarray(0, 4).buffer, list.subarray(0, 4).byteOffset).getUint32(0);

// ------------------------------------------------------------------ server

let server = null;

async function serverStart() {
  server = await makeNode({ listen: true });

  // bulk: first 8 bytes = payload length (u64 BE), then the payload. After the
  // last payload byte arrives, answer one byte and close.
  await server.handle(
    BULK,
    async (stream) => {
      let header = new Uint8Array(0);
      let expected = -1;
      let got = 0;
      try {
        for await (const chunk of stream) {
          let len = chunk.byteLength;
          if (expected < 0) {
            const bytes = chunk.subarray();
            const merged = new Uint8Array(header.length + bytes.length);
            merged.set(header);
            merged.set(bytes, header.length);
            if (merged.length < 8) {
              header = merged;
              continue;
            }
            expected = Number(new DataView(merged.buffer, merged.byteOffset, 8).getBigUint64(0));
            len = merged.length - 8;
          }
          got += len;
          if (got >= expected) {
            stream.send(Uint8Array.of(1));
            break;
          }
        }
        await stream.close();
      } catch (err) {
        stream.abort(err);
      }
    },
    HANDLER_OPTS,
  );

  // msgs: length-prefixed; first message = u32 count, then count messages.
  // After the last one, answer a 1-byte length-prefixed ack; keep reading until
  // the sender closes its write end.
  await server.handle(
    MSGS,
    async (stream) => {
      let count = -1;
      let n = 0;
      try {
        for await (const msg of lp.decode(stream, { maxDataLength: 1 << 20 })) {
          if (count < 0) {
            count = readU32(msg);
            continue;
          }
          if (++n === count) stream.send(lp.encode.single(Uint8Array.of(1)));
        }
        await stream.close();
      } catch (err) {
        stream.abort(err);
      }
    },
    HANDLER_OPTS,
  );

  // echo: length-prefixed request/response; every message is sent straight back.
  await server.handle(
    ECHO,
    async (stream) => {
      try {
        for await (const msg of lp.decode(stream, { maxDataLength: 1 << 20 })) {
          if (!stream.send(lp.encode.single(msg))) await stream.onDrain();
        }
        await stream.close();
      } catch (err) {
        stream.abort(err);
      }
    },
    HANDLER_OPTS,
  );

  return { addr: server.getMultiaddrs()[0].toString(), peerId: server.peerId.toString() };
}

async function serverInfo() {
  return { connections: server.getConnections().length };
}

async function memSample() {
  const m = await sampleMemory();
  return { ...m, connections: server != null ? server.getConnections().length : 0 };
}

// ------------------------------------------------------------------ client

let clientNode = null; // the node used for single-connection measurements
let mainConn = null;
const extraNodes = []; // lane nodes / memory-test nodes

async function mainConnection(addr) {
  if (clientNode == null) clientNode = await makeNode({ listen: false });
  if (mainConn == null || mainConn.status !== 'open')
    mainConn = await clientNode.dial(multiaddr(addr));
  return mainConn;
}

/** Read from a MessageStream until it yields `bytes` bytes (or ends). */
async function readBytes(iter, bytes) {
  let got = 0;
  while (got < bytes) {
    const { value, done } = await iter.next();
    if (done) throw new Error(`stream ended after ${got}/${bytes} bytes`);
    got += value.byteLength;
  }
}

async function bulk({ addr, totalBytes, chunkBytes }) {
  const conn = await mainConnection(addr);
  const stream = await conn.newStream(BULK, { runOnLimitedConnection: false });
  const iter = stream[Symbol.asyncIterator]();
  const ackP = readBytes(iter, 1);
  ackP.catch(() => {});
  const chunk = new Uint8Array(chunkBytes).fill(0xab);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(totalBytes));
  const t0 = nowNs();
  stream.send(header);
  let sent = 0;
  while (sent < totalBytes) {
    const n = Math.min(chunkBytes, totalBytes - sent);
    const ok = stream.send(n === chunkBytes ? chunk : chunk.subarray(0, n));
    sent += n;
    if (!ok) await stream.onDrain();
  }
  await ackP;
  const secs = secondsSince(t0);
  await stream.close();
  await iter.return?.();
  return {
    bytes: totalBytes,
    seconds: secs,
    MBps: round(totalBytes / 1e6 / secs, 1),
    MiBps: round(totalBytes / 1048576 / secs, 1),
  };
}

// mode 'lpStream' (default): `await lpStream(stream).write(payload)` per
// message, the documented js-libp2p 3 API for length-prefixed messages.
// mode 'send': `stream.send(lp.encode.single(payload))`, awaiting onDrain only
// when send() returns false. Not used by run.mjs: in libp2p 3.3.11 send()
// keeps returning true while the stream's write buffer grows (85 MB for
// 100k x 1 KiB), and the run degrades to ~5k msg/s, so it measures buffer
// handling rather than message rate.
async function msgs({ addr, size, count, mode = 'lpStream' }) {
  const conn = await mainConnection(addr);
  const stream = await conn.newStream(MSGS);
  const decoded = lp.decode(stream);
  const ackP = decoded.next();
  ackP.catch(() => {});
  const payload = new Uint8Array(size).fill(0xcd);
  stream.send(lp.encode.single(u32(count)));
  let maxWriteBuffer = 0;
  const t0 = nowNs();
  if (mode === 'lpStream') {
    const lps = lpStream(stream);
    for (let i = 0; i < count; i++) await lps.write(payload);
  } else {
    for (let i = 0; i < count; i++) {
      if (!stream.send(lp.encode.single(payload))) await stream.onDrain();
      if (stream.writeBufferLength > maxWriteBuffer) maxWriteBuffer = stream.writeBufferLength;
    }
  }
  const ack = await ackP;
  if (ack.done) throw new Error('msgs: stream ended before ack');
  const secs = secondsSince(t0);
  await stream.close();
  await decoded.return?.();
  return {
    size,
    count,
    mode,
    seconds: secs,
    msgsPerSec: round(count / secs, 0),
    ...(mode === 'send' ? { maxWriteBuffer } : {}),
  };
}

async function rtt({ addr, size, warmup, count }) {
  const conn = await mainConnection(addr);
  const stream = await conn.newStream(ECHO);
  const lps = lpStream(stream);
  const payload = new Uint8Array(size).fill(0xef);
  for (let i = 0; i < warmup; i++) {
    await lps.write(payload);
    await lps.read();
  }
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = nowNs();
    await lps.write(payload);
    const reply = await lps.read();
    samples[i] = Number(nowNs() - t0) / 1e3;
    if (reply.byteLength !== size) throw new Error('rtt: bad echo length');
  }
  await lps.unwrap().close();
  samples.sort();
  return {
    size,
    count,
    p50us: round(percentileSorted(samples, 50), 1),
    p99us: round(percentileSorted(samples, 99), 1),
    meanUs: round(mean(samples), 1),
  };
}

/** One fresh connection: dial (TCP + Noise + Yamux), open echo stream, one 32 B round trip. */
async function dialEcho(node, ma, size) {
  const conn = await node.dial(ma, { force: true });
  const stream = await conn.newStream(ECHO);
  const lps = lpStream(stream);
  await lps.write(new Uint8Array(size).fill(7));
  const reply = await lps.read();
  if (reply.byteLength !== size) throw new Error('dialEcho: bad echo length');
  return { conn, stream: lps.unwrap() };
}

async function ensureNodes(k) {
  while (extraNodes.length < k) {
    const made = await runPool(Math.min(64, k - extraNodes.length), 8, () =>
      makeNode({ listen: false }),
    );
    extraNodes.push(...made);
  }
  return extraNodes.slice(0, k);
}

async function conns({ addr, total, concurrency, size = 32 }) {
  const ma = multiaddr(addr);
  // One client node per concurrent lane: libp2p joins concurrent dials to the
  // same peer into one, so parallel fresh connections need distinct dialers.
  const nodes = await ensureNodes(concurrency);
  const latencies = new Float64Array(total);
  const t0 = nowNs();
  await runPool(total, concurrency, async (i, lane) => {
    const s = nowNs();
    const { conn } = await dialEcho(nodes[lane], ma, size);
    latencies[i] = Number(nowNs() - s) / 1e6;
    await conn.close();
  });
  const secs = secondsSince(t0);
  latencies.sort();
  return {
    total,
    concurrency,
    seconds: secs,
    perSec: round(total / secs, 1),
    latencyP50ms: round(percentileSorted(latencies, 50), 2),
    latencyP99ms: round(percentileSorted(latencies, 99), 2),
  };
}

/**
 * Memory test, client side: open n connections to the server, each from its
 * own client node (a distinct peer, as a server with n connections normally
 * has n peers), each proven live with one 32 B echo; the echo stream is
 * closed, the connection is kept open and idle.
 */
const memHeld = [];
async function memConnect({ addr, n, concurrency }) {
  const ma = multiaddr(addr);
  const t0 = nowNs();
  const nodes = await runPool(n, concurrency, () => makeNode({ listen: false }));
  const tNodes = secondsSince(t0);
  const t1 = nowNs();
  await runPool(n, concurrency, async (i) => {
    const { conn, stream } = await dialEcho(nodes[i], ma, 32);
    await stream.close();
    memHeld.push({ node: nodes[i], conn });
  });
  return { opened: n, nodeSeconds: round(tNodes, 2), connectSeconds: round(secondsSince(t1), 2) };
}

async function stopAll() {
  const all = [server, clientNode, ...extraNodes, ...memHeld.map((h) => h.node)].filter(
    (x) => x != null,
  );
  await Promise.allSettled(all.map((n) => withTimeout(n.stop(), 5_000, 'node.stop')));
}

serveWorker(
  {
    // This process's CPU time (user + system) in microseconds, for CPU per unit figures.
    cpu: async () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    serverStart,
    serverInfo,
    memSample,
    bulk,
    msgs,
    rtt,
    conns,
    memConnect,
    sleep: async ({ ms }) => {
      await sleep(Math.min(ms, 10_000));
      return true;
    },
    ...rawTcpHandlers(),
  },
  stopAll,
);
