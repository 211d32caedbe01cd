/**
 * Memory diagnostics shared by the memory benchmarks (bench/p2p.ts, bench/scale.ts) and their
 * workers: where a process's resident memory is ({@link rssBreakdown}), and what grew between two
 * V8 heap snapshots ({@link heapDiff}), by constructor and, for the anonymous kinds (arrays,
 * closures, contexts, promises), by the object and field that hold them.
 *
 * Nothing here imports src/.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { table } from './common.js';

// ---------- Resident memory ----------

/**
 * Where the resident memory is, in bytes:
 * - `v8Physical`: resident pages of every V8 heap space (`physical_space_size`), of which
 *   `v8NewPhysical` / `v8NewCommitted` are the young generation's (its semi-spaces grow to
 *   16 MiB each under allocation pressure and are not shrunk by `gc()`);
 * - `mallocBrk`: the `[heap]` mapping (glibc's main malloc arena: libuv handles, OpenSSL and
 *   libsodium objects, ArrayBuffer backing stores);
 * - `anonOther`: other anonymous mappings minus V8's pages (mmap'd malloc chunks, thread arenas,
 *   stacks);
 * - `fileBacked`: mapped files (the node binary and shared libraries).
 * Linux only (/proc/self/smaps); zeros elsewhere.
 */
export interface RssBreakdown {
  v8Physical: number;
  v8NewPhysical: number;
  v8NewCommitted: number;
  mallocBrk: number;
  anonOther: number;
  fileBacked: number;
}

/** This process's {@link RssBreakdown}. */
export function rssBreakdown(): RssBreakdown {
  let v8Physical = 0;
  let v8NewPhysical = 0;
  let v8NewCommitted = 0;
  for (const s of getHeapSpaceStatistics()) {
    v8Physical += s.physical_space_size;
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') {
      v8NewPhysical += s.physical_space_size;
      v8NewCommitted += s.space_size;
    }
  }
  let brk = 0;
  let anon = 0;
  let file = 0;
  let smaps = '';
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return { v8Physical, v8NewPhysical, v8NewCommitted, mallocBrk: 0, anonOther: 0, fileBacked: 0 };
  }
  let kind: 'brk' | 'anon' | 'file' = 'anon';
  for (const line of smaps.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      const name = line.split(/\s+/)[5] ?? '';
      kind = name === '[heap]' ? 'brk' : name === '' || name.startsWith('[') ? 'anon' : 'file';
    } else if (line.startsWith('Rss:')) {
      const bytes = Number(line.split(/\s+/)[1]) * 1024;
      if (kind === 'brk') brk += bytes;
      else if (kind === 'anon') anon += bytes;
      else file += bytes;
    }
  }
  return {
    v8Physical,
    v8NewPhysical,
    v8NewCommitted,
    mallocBrk: brk,
    anonOther: anon - v8Physical,
    fileBacked: file,
  };
}

// ---------- Heap snapshots ----------

interface Group {
  count: number;
  bytes: number;
}

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Kinds whose name says little: they are also grouped by what holds them. */
function anonymous(key: string): boolean {
  return (
    key === 'array:' ||
    key === 'object:Array' ||
    key.startsWith('closure:') ||
    key === 'object:system / Context' ||
    key === 'object:Promise' ||
    key === 'hidden:system / PromiseReaction' ||
    key === 'object:Object' ||
    key === 'object:Generator' ||
    key === 'object:Map' ||
    key === 'object:Set' ||
    key === 'object:Uint8Array' ||
    key === 'object:ArrayBuffer' ||
    key === 'object:Buffer'
  );
}

/**
 * Self size and count of every node of a V8 heap snapshot, grouped by `type:name` (`byKind`),
 * and, for the anonymous kinds, by `type:name <- holder.edge` (two links when the holder is anonymous too) (`byHolder`: the first strong
 * retainer's `type:name` and the edge's name).
 */
function groups(path: string): { byKind: Map<string, Group>; byHolder: Map<string, Group> } {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const meta = snap.snapshot.meta;
  const width = meta.node_fields.length;
  const fType = meta.node_fields.indexOf('type');
  const fName = meta.node_fields.indexOf('name');
  const fSize = meta.node_fields.indexOf('self_size');
  const fEdges = meta.node_fields.indexOf('edge_count');
  const ew = meta.edge_fields.length;
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const { nodes, edges, strings } = snap;
  const count = nodes.length / width;
  const keyOf = (i: number): string => {
    const type = types[nodes[i * width + fType]!] ?? '?';
    let name = strings[nodes[i * width + fName]!] ?? '?';
    // Strings and numbers are grouped by type only (their "name" is their value).
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (type === 'number' || type === 'heap number') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    return `${type}:${name}`;
  };
  // The first strong retainer of every node (and the edge's name).
  const holder = new Int32Array(count).fill(-1);
  const holderEdge = new Int32Array(count).fill(-1);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const n = nodes[i * width + fEdges]!;
    for (let k = 0; k < n; k++, e += ew) {
      const t = edgeTypes[edges[e + eType]!];
      if (t === 'weak' || t === 'shortcut') continue;
      const to = edges[e + eTo]! / width;
      if (holder[to] === -1) {
        holder[to] = i;
        holderEdge[to] = e;
      }
    }
  }
  const edgeName = (edge: number): string => {
    const t = edgeTypes[edges[edge + eType]!];
    const v = edges[edge + eName]!;
    return t === 'element' || t === 'hidden' ? `[${t}]` : (strings[v] ?? '?');
  };
  const byKind = new Map<string, Group>();
  const byHolder = new Map<string, Group>();
  const add = (m: Map<string, Group>, key: string, bytes: number): void => {
    const g = m.get(key);
    if (g === undefined) m.set(key, { count: 1, bytes });
    else {
      g.count++;
      g.bytes += bytes;
    }
  };
  for (let i = 0; i < count; i++) {
    const key = keyOf(i);
    const bytes = nodes[i * width + fSize]!;
    add(byKind, key, bytes);
    if (anonymous(key)) {
      // Two links up when the holder is itself anonymous (an array held by a Map held by ...).
      let via = '';
      let at = i;
      for (let depth = 0; depth < 2; depth++) {
        const h = holder[at]!;
        if (h < 0) {
          via += ' <- (root)';
          break;
        }
        const hk = keyOf(h);
        via += ` <- ${hk}.${edgeName(holderEdge[at]!)}`;
        if (!anonymous(hk)) break;
        at = h;
      }
      add(byHolder, `${key}${via}`, bytes);
    }
  }
  return { byKind, byHolder };
}

/** One group's growth between two snapshots, per peer. */
export interface HeapGrowth {
  key: string;
  objectsPerPeer: number;
  bytesPerPeer: number;
}

/** What grew between snapshot `before` and `after`, divided by `peers`. */
export interface HeapDiff {
  /** Total growth of the V8 heap (self sizes of all nodes), bytes per peer. */
  totalBytesPerPeer: number;
  /** By `type:name`, largest first. */
  byKind: HeapGrowth[];
  /** The anonymous kinds by `type:name <- holder.edge` (two links when the holder is anonymous too), largest first. */
  byHolder: HeapGrowth[];
}

function growth(a: Map<string, Group>, b: Map<string, Group>, peers: number): HeapGrowth[] {
  const out: HeapGrowth[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key) ?? { count: 0, bytes: 0 };
    const y = b.get(key) ?? { count: 0, bytes: 0 };
    out.push({
      key,
      objectsPerPeer: (y.count - x.count) / peers,
      bytesPerPeer: (y.bytes - x.bytes) / peers,
    });
  }
  return out.sort((p, q) => q.bytesPerPeer - p.bytesPerPeer);
}

/** Compares two heap snapshot files taken `peers` connections apart. */
export function heapDiff(before: string, after: string, peers: number): HeapDiff {
  const a = groups(before);
  const b = groups(after);
  const byKind = growth(a.byKind, b.byKind, peers);
  return {
    totalBytesPerPeer: byKind.reduce((s, g) => s + g.bytesPerPeer, 0),
    byKind,
    byHolder: growth(a.byHolder, b.byHolder, peers),
  };
}

/** Prints the `rows` largest groups of a {@link HeapDiff} (both tables). */
export function printHeapDiff(d: HeapDiff, title: string, rows = 40): void {
  const render = (head: string, list: HeapGrowth[]): string => {
    const t: string[][] = [[head, 'objects / peer', 'bytes / peer', 'share']];
    for (const g of list.slice(0, rows)) {
      t.push([
        g.key,
        g.objectsPerPeer.toFixed(1),
        g.bytesPerPeer.toFixed(0),
        `${((100 * g.bytesPerPeer) / d.totalBytesPerPeer).toFixed(1)}%`,
      ]);
    }
    return table(t);
  };
  console.log(`\n${title}\n`);
  console.log(render('heap growth by type:name', d.byKind));
  console.log(`total (all groups): ${d.totalBytesPerPeer.toFixed(0)} bytes / peer\n`);
  console.log(render('anonymous kinds by holder (type:name <- holder.edge)', d.byHolder));
}
