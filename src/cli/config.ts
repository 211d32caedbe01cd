/**
 * The node config file of `authp2p run` and `check-peers` (API.md "Operating a node"): JSON,
 * paths relative to the file, validated up front. The first problem found is one
 * {@link CliError} (`Config`, exit 2) whose message starts with the file and the field:
 * `node.json: peers[1][1]: invalid address "127.0.0.1" ...`.
 *
 * Fields: `network` (`"lookup"` | `"discovery"`), `preset` (`"recommended"`, the default, or
 * `"local"`), `key` (a key file, mode 0600), `namespace` (text), `listen`, `maxPeersPerSet`,
 * `maxMessageSize`, `peers`, and optionally `admin` (`"HOST:PORT"` of the admin endpoint),
 * `adminToken` (required when `admin` is not loopback) and `log` (the level of the network's own
 * log lines, default `"silent"`). Discovery adds `dialable` and `bootstrappers`. Every other
 * field of the flavour's `Config` may be given by its name; the two handshake-rate quotas as
 * `{ "perSecond" | "perMinute" | "perHour" | "periodMs": n, "burst"?: n }`.
 *
 * `peers` is a list (every peer primary) or `{ "primary": [...], "secondary": [...] }`; lookup
 * entries are `["<public key hex>", address]` with address `"host:port"` or
 * `{ "ingress": "host:port", "egress": "ip:port" }`, discovery entries are key hex strings.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { isLoopback } from '../admin/index.js';
import { ed25519 } from '../crypto/index.js';
import { type Address, parseAddress, parseIngress, parseSocketAddr } from '../p2p/address.js';
import * as discovery from '../p2p/authenticated/discovery/index.js';
import * as lookup from '../p2p/authenticated/lookup/index.js';
import { P2PError } from '../p2p/errors.js';
import { Quota } from '../quota/index.js';
import type { LogLevel } from '../runtime/index.js';
import { isLogLevel } from '../runtime/log.js';
import { CliError } from './errors.js';
import { readKeyFile } from './keys.js';

/** A peer set by role. */
export interface Roles<T> {
  readonly primary: readonly T[];
  readonly secondary: readonly T[];
}

/** A lookup peer: its key and registered address. */
export type LookupPeer = readonly [ed25519.PublicKey, Address];

/** What both flavours' node configs have. */
interface Common {
  /** The absolute path of the config file. */
  readonly path: string;
  readonly signer: ed25519.PrivateKey;
  /** The admin endpoint's `HOST:PORT`, if the node serves one. */
  readonly admin: string | undefined;
  /** The admin endpoint's bearer token, if any. */
  readonly adminToken: string | undefined;
  /** The level of the network's own log lines. */
  readonly log: LogLevel;
  /** The file's fields as parsed JSON (to tell what a reload changed). */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** A validated node config file. */
export type NodeConfig =
  | (Common & {
      readonly network: 'lookup';
      readonly config: lookup.Config;
      readonly peers: Roles<LookupPeer>;
    })
  | (Common & {
      readonly network: 'discovery';
      readonly config: discovery.Config;
      readonly peers: Roles<ed25519.PublicKey>;
    });

const QUOTA_FIELDS: readonly string[] = [
  'allowedHandshakeRatePerIp',
  'allowedHandshakeRatePerSubnet',
];
/** Fields the CLI interprets itself (the rest go to the flavour's `Config`). */
const OWN_FIELDS: readonly string[] = [
  'network',
  'preset',
  'key',
  'namespace',
  'peers',
  'admin',
  'adminToken',
  'log',
  'bootstrappers',
];

type Fail = (field: string, why: string, cause?: unknown) => CliError;

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function str(fail: Fail, field: string, v: unknown): string {
  if (typeof v !== 'string') throw fail(field, `must be a string, got ${typeName(v)}`);
  return v;
}

function publicKey(fail: Fail, field: string, v: unknown): ed25519.PublicKey {
  const hex = str(fail, field, v);
  try {
    return ed25519.PublicKey.fromHex(hex);
  } catch (err) {
    throw fail(field, `is not a public key (want 64 hex digits): ${JSON.stringify(hex)}`, err);
  }
}

function address<T>(fail: Fail, field: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw fail(field, err instanceof Error ? err.message : String(err), err);
  }
}

/** `{ perSecond: n }` and friends, with an optional `burst`. */
function quota(fail: Fail, field: string, v: unknown): Quota {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw fail(field, `must be an object such as { "perSecond": 16 }, got ${typeName(v)}`);
  }
  const { burst, ...rate } = v as Record<string, unknown>;
  const entries = Object.entries(rate);
  const makers: Record<string, (n: number) => Quota> = {
    perSecond: (n) => Quota.perSecond(n),
    perMinute: (n) => Quota.perMinute(n),
    perHour: (n) => Quota.perHour(n),
    periodMs: (n) => Quota.withPeriod(n),
  };
  const [kind, n] = entries[0] ?? [];
  const make = kind === undefined ? undefined : makers[kind];
  if (entries.length !== 1 || make === undefined || typeof n !== 'number') {
    throw fail(
      field,
      'must have exactly one of perSecond, perMinute, perHour, periodMs (a number)',
    );
  }
  try {
    const q = make(n);
    if (burst === undefined) return q;
    if (typeof burst !== 'number') throw new TypeError('burst must be a number');
    return q.allowBurst(burst);
  } catch (err) {
    throw fail(field, err instanceof Error ? err.message : String(err), err);
  }
}

/** Splits `peers` into roles and checks each role's entries with `entry`. */
function roles<T>(
  fail: Fail,
  v: unknown,
  entry: (item: unknown, field: string) => T,
  keyOf: (t: T) => ed25519.PublicKey,
): Roles<T> {
  const list = (items: unknown, field: string): T[] => {
    if (!Array.isArray(items)) throw fail(field, `must be a list, got ${typeName(items)}`);
    const seen = new Set<string>();
    return items.map((item, i) => {
      const t = entry(item, `${field}[${i}]`);
      const hex = keyOf(t).toHex();
      if (seen.has(hex)) throw fail(`${field}[${i}]`, `lists ${hex} twice`);
      seen.add(hex);
      return t;
    });
  };
  if (v === undefined) return { primary: [], secondary: [] };
  if (Array.isArray(v)) return { primary: list(v, 'peers'), secondary: [] };
  if (typeof v !== 'object' || v === null) {
    throw fail('peers', `must be a list or { "primary": [...], "secondary": [...] }`);
  }
  const { primary, secondary, ...extra } = v as Record<string, unknown>;
  const unknown = Object.keys(extra)[0];
  if (unknown !== undefined) throw fail(`peers.${unknown}`, 'is not a field (primary, secondary)');
  return {
    primary: list(primary ?? [], 'peers.primary'),
    secondary: list(secondary ?? [], 'peers.secondary'),
  };
}

function lookupPeer(fail: Fail, item: unknown, field: string): LookupPeer {
  if (!Array.isArray(item) || item.length !== 2) {
    throw fail(field, 'must be ["<public key hex>", address]');
  }
  const pk = publicKey(fail, `${field}[0]`, item[0]);
  const raw = item[1] as unknown;
  if (typeof raw !== 'string' && (typeof raw !== 'object' || raw === null)) {
    throw fail(
      `${field}[1]`,
      `must be "host:port" or { "ingress", "egress" }, got ${typeName(raw)}`,
    );
  }
  return [pk, address(fail, `${field}[1]`, () => parseAddress(raw as string))];
}

/** Checks that `peers` fits `maxPeersPerSet`, counting ourselves when not listed. */
function checkSize<T>(
  fail: Fail,
  peers: Roles<T>,
  keyOf: (t: T) => ed25519.PublicKey,
  self: string,
  max: number,
): void {
  const all = new Set([...peers.primary, ...peers.secondary].map((t) => keyOf(t).toHex()));
  const count = all.size + (all.has(self) ? 0 : 1);
  if (count > max) {
    throw fail('peers', `has ${count} peers counting this node, more than maxPeersPerSet ${max}`);
  }
}

/**
 * Reads and validates the node config file at `path`. With `privateKey` (the default), the key
 * file must not be readable by group or others.
 *
 * @throws CliError `Config` naming the file and the first bad field.
 */
export function loadConfig(path: string, options: { privateKey?: boolean } = {}): NodeConfig {
  const file = resolve(path);
  const name = basename(file);
  const fail: Fail = (field, why, cause) =>
    new CliError(
      'Config',
      `${name}: ${field}: ${why}`,
      cause === undefined ? undefined : { cause },
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const why = err instanceof SyntaxError ? `is not JSON: ${err.message}` : 'cannot be read';
    const code = (err as { code?: unknown }).code;
    throw new CliError('Config', `${name}: ${why}${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: err,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CliError('Config', `${name}: must hold a JSON object, got ${typeName(raw)}`);
  }
  const fields = raw as Record<string, unknown>;
  const network = fields.network;
  if (network !== 'lookup' && network !== 'discovery') {
    throw fail('network', `must be "lookup" or "discovery", got ${JSON.stringify(network)}`);
  }
  const preset = fields.preset ?? 'recommended';
  if (preset !== 'recommended' && preset !== 'local') {
    throw fail('preset', `must be "recommended" or "local", got ${JSON.stringify(preset)}`);
  }
  if (fields.signer !== undefined) throw fail('signer', 'is not a config file field (use key)');
  if (fields.key === undefined) throw fail('key', 'is required (a key file made by keygen)');
  const keyPath = resolve(dirname(file), str(fail, 'key', fields.key));
  if (fields.namespace === undefined) throw fail('namespace', 'is required');
  const namespace = str(fail, 'namespace', fields.namespace);
  if (namespace === '') throw fail('namespace', 'must not be empty');
  const log = fields.log ?? 'silent';
  if (!isLogLevel(log)) {
    throw fail(
      'log',
      `must be trace, debug, info, warn, error or silent, got ${JSON.stringify(log)}`,
    );
  }
  const adminText = fields.admin === undefined ? undefined : str(fail, 'admin', fields.admin);
  // As the admin endpoint reads it: an IP literal and port, or localhost:PORT.
  const admin =
    adminText === undefined
      ? undefined
      : address(fail, 'admin', () =>
          parseSocketAddr(adminText.replace(/^localhost:/, '127.0.0.1:')),
        );
  const adminToken =
    fields.adminToken === undefined ? undefined : str(fail, 'adminToken', fields.adminToken);
  if (adminToken !== undefined && !/^[\x21-\x7e]{1,256}$/.test(adminToken)) {
    throw fail('adminToken', 'must be 1 to 256 printable ASCII characters without spaces');
  }
  if (admin !== undefined && !isLoopback(admin.ip) && adminToken === undefined) {
    throw fail('adminToken', 'is required when admin is not a loopback address');
  }
  // Every other field goes to the flavour's Config, which rejects unknown names.
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (OWN_FIELDS.includes(k)) continue;
    rest[k] = QUOTA_FIELDS.includes(k) ? quota(fail, k, v) : v;
  }
  const signer = readKeyFile(keyPath, `${name}: key`, { private: options.privateKey ?? true });
  const input = { ...rest, signer, namespace: new TextEncoder().encode(namespace) };
  const common = {
    path: file,
    signer,
    admin: adminText,
    adminToken,
    log: log as LogLevel,
    raw: fields,
  };
  const build = <C>(make: () => C): C => {
    try {
      return make();
    } catch (err) {
      if (!(err instanceof P2PError)) throw err;
      // "lookup config: maxPeersPerSet must be ..." names the field.
      throw new CliError('Config', `${name}: ${err.message}`, { cause: err });
    }
  };
  const self = signer.publicKey.toHex();
  if (network === 'lookup') {
    if (fields.bootstrappers !== undefined) {
      throw fail('bootstrappers', 'is a discovery field (lookup peers carry their addresses)');
    }
    const keyOf = ([pk]: LookupPeer): ed25519.PublicKey => pk;
    const peers = roles(fail, fields.peers, (item, field) => lookupPeer(fail, item, field), keyOf);
    const config = build(() => lookup.Config[preset](input as unknown as lookup.ConfigInput));
    checkSize(fail, peers, keyOf, self, config.maxPeersPerSet);
    return { ...common, network, config, peers };
  }
  const keyOf = (pk: ed25519.PublicKey): ed25519.PublicKey => pk;
  const peers = roles(fail, fields.peers, (item, field) => publicKey(fail, field, item), keyOf);
  const list = fields.bootstrappers ?? [];
  if (!Array.isArray(list)) throw fail('bootstrappers', `must be a list, got ${typeName(list)}`);
  const bootstrappers = list.map((entry: unknown, i) => {
    const field = `bootstrappers[${i}]`;
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw fail(field, 'must be ["<public key hex>", "host:port"]');
    }
    const pk = publicKey(fail, `${field}[0]`, entry[0]);
    const at = str(fail, `${field}[1]`, entry[1]);
    return [pk, address(fail, `${field}[1]`, () => parseIngress(at))] as const;
  });
  const config = build(() =>
    discovery.Config[preset]({ ...input, bootstrappers } as unknown as discovery.ConfigInput),
  );
  checkSize(fail, peers, keyOf, self, config.maxPeersPerSet);
  return { ...common, network, config, peers };
}

/** The top-level fields whose values differ between two loads of a config (besides `peers`). */
export function changedFields(a: NodeConfig, b: NodeConfig): string[] {
  const names = new Set([...Object.keys(a.raw), ...Object.keys(b.raw)]);
  names.delete('peers');
  return [...names].filter((k) => JSON.stringify(a.raw[k]) !== JSON.stringify(b.raw[k])).sort();
}
