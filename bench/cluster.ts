/**
 * `npm run cluster -- --hosts 6 [--rate 100] [--down-seconds 15]` (root only; elsewhere it says
 * so and exits 0): real hosts on one machine. Each host is a network namespace `ap2p-hN` with its
 * own IP 10.77.(N+1).2 in its own /24; a router namespace `ap2p-r` holds the bridge `ap2p-br`
 * (every host's veth is a bridge port; the bridge has each /24's gateway .1 and forwards between
 * them). Every odd host's link is shaped both ways with `tc tbf` (10 mbit). Each host runs
 * bench/cluster-node.js, a discovery peer that knows only host 0 (the bootstrapper).
 *
 * The run prints the time to a full mesh, the delivered rates per host, then takes the last
 * host's link down for `--down-seconds`, brings it back, and prints the time to a full mesh again.
 * Every namespace (and with it every veth, the bridge and the qdiscs) is deleted at the end, on
 * SIGINT/SIGTERM, and on start for leftovers named `ap2p-*` from an interrupted run.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { argValue, round, table } from './common.js';

const PREFIX = 'ap2p-';
const ROUTER = `${PREFIX}r`;
const argv = process.argv.slice(2);
const HOSTS = Number(argValue(argv, '--hosts') ?? 6);
const RATE = Number(argValue(argv, '--rate') ?? 100);
const DOWN_S = Number(argValue(argv, '--down-seconds') ?? 15);
const MESH_LIMIT_MS = 60_000;

if (process.getuid?.() !== 0) {
  console.log('cluster: needs root (network namespaces, veth, bridge, tc); skipped.');
  process.exit(0);
}
if (!Number.isInteger(HOSTS) || HOSTS < 2 || HOSTS > 50) {
  console.error('cluster: --hosts must be an integer in 2..50');
  process.exit(2);
}

const sh = (...args: string[]): string =>
  execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ipn = (ns: string, ...args: string[]): string => sh('ip', '-n', ns, ...args);
const hostNs = (i: number): string => `${PREFIX}h${i}`;
const ipOf = (i: number): string => `10.77.${i + 1}.2`;

/** Deletes every namespace and root-namespace link named with the prefix. */
function cleanup(): void {
  for (const line of sh('ip', 'netns', 'list').split('\n')) {
    const ns = line.split(' ')[0];
    if (ns?.startsWith(PREFIX)) {
      try {
        sh('ip', 'netns', 'delete', ns);
      } catch {}
    }
  }
  for (const m of sh('ip', '-o', 'link', 'show').matchAll(/^\d+: ([^:@]+)/gm)) {
    if (m[1]!.startsWith(PREFIX)) {
      try {
        sh('ip', 'link', 'delete', m[1]!);
      } catch {}
    }
  }
}

function shape(ns: string, dev: string): void {
  ipn(ns, 'link', 'set', dev, 'up');
  sh(
    'ip',
    'netns',
    'exec',
    ns,
    'tc',
    'qdisc',
    'add',
    'dev',
    dev,
    'root',
    'tbf',
    'rate',
    '10mbit',
    'burst',
    '32kbit',
    'latency',
    '50ms',
  );
}

function setup(): void {
  sh('ip', 'netns', 'add', ROUTER);
  ipn(ROUTER, 'link', 'set', 'lo', 'up');
  ipn(ROUTER, 'link', 'add', `${PREFIX}br`, 'type', 'bridge');
  ipn(ROUTER, 'link', 'set', `${PREFIX}br`, 'up');
  sh('ip', 'netns', 'exec', ROUTER, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  sh('ip', 'netns', 'exec', ROUTER, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.send_redirects=0');
  for (let i = 0; i < HOSTS; i++) {
    const ns = hostNs(i);
    const outer = `${PREFIX}v${i}`;
    sh('ip', 'netns', 'add', ns);
    ipn(ns, 'link', 'set', 'lo', 'up');
    sh('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', `${PREFIX}e${i}`);
    sh('ip', 'link', 'set', outer, 'netns', ROUTER);
    sh('ip', 'link', 'set', `${PREFIX}e${i}`, 'netns', ns);
    ipn(ns, 'link', 'set', `${PREFIX}e${i}`, 'name', 'eth0');
    ipn(ns, 'addr', 'add', `${ipOf(i)}/24`, 'dev', 'eth0');
    ipn(ns, 'link', 'set', 'eth0', 'up');
    ipn(ns, 'route', 'add', 'default', 'via', `10.77.${i + 1}.1`);
    ipn(ROUTER, 'link', 'set', outer, 'master', `${PREFIX}br`);
    ipn(ROUTER, 'addr', 'add', `10.77.${i + 1}.1/24`, 'dev', `${PREFIX}br`);
    ipn(ROUTER, 'link', 'set', outer, 'up');
    if (i % 2 === 1) {
      shape(ns, 'eth0');
      shape(ROUTER, outer);
    }
  }
}

interface Report {
  t: number;
  connected: number;
  delivered: number;
  bytes: number;
}

const children: ChildProcess[] = [];
const latest: (Report | undefined)[] = Array.from({ length: HOSTS }, () => undefined);
let interrupted = false;

function onSignal(sig: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  console.error(`cluster: ${sig}, cleaning up`);
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
    cleanup();
    console.error('cluster: cleaned up every namespace and link');
    process.exit(130);
  }, 2_000).unref();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const nodeScript = fileURLToPath(new URL('./cluster-node.js', import.meta.url));
function startHost(i: number): void {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      hostNs(i),
      process.execPath,
      nodeScript,
      '--index',
      String(i),
      '--hosts',
      String(HOSTS),
      '--rate',
      String(RATE),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      latest[i] = JSON.parse(l) as Report;
    } catch {
      console.error(`host ${i}: ${l}`);
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();
async function until(cond: () => boolean, limitMs: number): Promise<number | undefined> {
  const t = now();
  while (!interrupted && now() - t < limitMs) {
    if (cond()) return round(now() - t, 0);
    await sleep(100);
  }
  return undefined;
}
const meshed = (): boolean => latest.every((r) => r !== undefined && r.connected === HOSTS - 1);
const snapshot = (): Report[] =>
  latest.map((r) => ({ ...(r ?? { t: 0, connected: 0, delivered: 0, bytes: 0 }) }));

async function rates(seconds: number): Promise<string[][]> {
  const a = snapshot();
  const ta = now();
  await sleep(seconds * 1000);
  const b = snapshot();
  const dt = (now() - ta) / 1000;
  return b.map((r, i) => [
    `h${i} ${ipOf(i)}${i % 2 === 1 ? ' (tbf 10mbit)' : ''}`,
    String(r.connected),
    String(round((r.delivered - a[i]!.delivered) / dt)),
    String(round((r.bytes - a[i]!.bytes) / dt / 1024)),
  ]);
}

cleanup();
let code = 0;
try {
  setup();
  console.log(
    `cluster: ${HOSTS} hosts (namespaces ${PREFIX}h0..${HOSTS - 1}, bridge in ${ROUTER}), ` +
      `each sending ${RATE} x 1 KiB/s to all; odd hosts shaped by tbf 10mbit`,
  );
  const t0 = now();
  for (let i = 0; i < HOSTS; i++) startHost(i);
  const meshMs = await until(meshed, MESH_LIMIT_MS);
  console.log(
    meshMs === undefined
      ? `no full mesh within ${MESH_LIMIT_MS / 1000} s`
      : `full mesh ${round(now() - t0, 0)} ms after the start`,
  );
  if (meshMs === undefined) code = 1;
  const header = ['host', 'connected', 'delivered msg/s', 'delivered KiB/s'];
  console.log(table([header, ...(await rates(5))]));
  const k = HOSTS - 1;
  console.log(`link of h${k} down for ${DOWN_S} s`);
  ipn(ROUTER, 'link', 'set', `${PREFIX}v${k}`, 'down');
  const tDown = now();
  const lost = await until(() => latest[0]!.connected < HOSTS - 1, DOWN_S * 1000);
  console.log(
    lost === undefined
      ? `h0 still counted h${k} connected after ${DOWN_S} s (the networks have no read timeout: TCP retransmits until the link is back)`
      : `h0 dropped h${k} ${lost} ms after the link went down`,
  );
  await sleep(Math.max(0, DOWN_S * 1000 - (now() - tDown)));
  ipn(ROUTER, 'link', 'set', `${PREFIX}v${k}`, 'up');
  console.log(`link of h${k} up`);
  const back = await until(meshed, MESH_LIMIT_MS);
  console.log(
    back === undefined
      ? `no full mesh within ${MESH_LIMIT_MS / 1000} s of the link coming back`
      : `full mesh again ${back} ms after the link came back`,
  );
  if (back === undefined) code = 1;
  console.log(table([header, ...(await rates(5))]));
} catch (e) {
  console.error(`cluster: ${(e as Error).message}`);
  code = 1;
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))),
  );
  cleanup();
  const left = sh('ip', 'netns', 'list')
    .split('\n')
    .filter((l) => l.startsWith(PREFIX));
  console.log(
    left.length === 0 ? 'cleaned up every namespace and link' : `left: ${left.join(', ')}`,
  );
}
process.exit(code);
