/**
 * Where the simulated peers are: `--distribution us-east-1:10,eu-west-1:5:1000000` places 10
 * peers in us-east-1 and 5 in eu-west-1, the latter limited to 1,000,000 bytes/s each way. A
 * region entry is `<region>:<count>[:<bandwidth>]`, where `<bandwidth>` is bytes/s for both
 * directions or `<egress>/<ingress>`.
 */

import type { LatencyTable } from './latency.js';

/** One region of a distribution. */
export interface RegionSpec {
  readonly region: string;
  readonly count: number;
  /** Bytes/s each peer may send; `null` = unlimited. */
  readonly egress: number | null;
  /** Bytes/s each peer may receive; `null` = unlimited. */
  readonly ingress: number | null;
}

/** One placed peer. */
export interface PlacedPeer {
  /** 0-based index; the peer's key is `PrivateKey.fromSeed(index + 1)`. */
  readonly index: number;
  readonly region: string;
  readonly egress: number | null;
  readonly ingress: number | null;
}

/**
 * Largest number of peers a distribution may place: the estimate makes one run per peer, each
 * simulating every peer and a link per ordered pair, so its cost grows with the cube.
 */
export const MAX_PEERS = 200;

function rate(s: string, entry: string): number {
  if (!/^\d+$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s))) {
    throw new RangeError(`${entry}: bandwidth ${JSON.stringify(s)} is not a positive integer`);
  }
  return Number(s);
}

/**
 * Parses a `--distribution` value.
 *
 * @throws RangeError naming the bad entry (format, count < 1, a region twice, too many peers).
 */
export function parseDistribution(spec: string): RegionSpec[] {
  const out: RegionSpec[] = [];
  let total = 0;
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    const parts = entry.split(':');
    if (parts.length < 2 || parts.length > 3 || parts[0] === '') {
      throw new RangeError(`distribution entry ${JSON.stringify(entry)}: use region:count[:bw]`);
    }
    const [region, countText, bw] = parts as [string, string, string | undefined];
    if (!/^\d+$/.test(countText) || Number(countText) < 1) {
      throw new RangeError(`${entry}: count must be a positive integer`);
    }
    if (out.some((r) => r.region === region)) throw new RangeError(`${region} is listed twice`);
    let egress: number | null = null;
    let ingress: number | null = null;
    if (bw !== undefined) {
      const [e, i, ...rest] = bw.split('/');
      if (rest.length > 0) throw new RangeError(`${entry}: bandwidth is B or EGRESS/INGRESS`);
      egress = rate(e as string, entry);
      ingress = i === undefined ? egress : rate(i, entry);
    }
    const count = Number(countText);
    total += count;
    if (total > MAX_PEERS) throw new RangeError(`more than ${MAX_PEERS} peers`);
    out.push({ region, count, egress, ingress });
  }
  if (total < 2) throw new RangeError('a distribution needs at least 2 peers');
  return out;
}

/**
 * Places the peers of `regions` in order (the first region's peers get the lowest indices).
 *
 * @throws RangeError if `table` is given and lacks a region of the distribution.
 */
export function place(regions: readonly RegionSpec[], table?: LatencyTable): PlacedPeer[] {
  if (table !== undefined) {
    for (const r of regions) {
      if (!table.regions.includes(r.region)) {
        throw new RangeError(
          `region ${r.region} is not in the latency table (it has: ${table.regions.join(', ')})`,
        );
      }
    }
  }
  const peers: PlacedPeer[] = [];
  for (const r of regions) {
    for (let k = 0; k < r.count; k++) {
      peers.push({ index: peers.length, region: r.region, egress: r.egress, ingress: r.ingress });
    }
  }
  return peers;
}
