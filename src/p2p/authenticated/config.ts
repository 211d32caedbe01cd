/**
 * The configuration fields both flavours share (commonware `discovery/config.rs` and
 * `lookup/config.rs` have them alike), their documentation, defaults and validation. Each
 * flavour's `config.ts` adds its own fields and presets and calls {@link buildConfig}.
 *
 * Errors: every invalid value throws `P2PError` with code `InvalidConfig` and a message naming
 * the field; unknown field names are rejected too, so a misspelt override cannot silently fall
 * back to a default.
 *
 * @module
 */

import type { PrivateKey } from '../../crypto/ed25519.js';
import { Quota } from '../../quota/index.js';
import type { SocketAddr } from '../../runtime/context.js';
import { parseSocketAddr } from '../address.js';
import { P2PError } from '../errors.js';
import type { DirectoryConfig } from './tracker/types.js';

/**
 * The largest application payload: commonware `MAX_SIZE` = the stream's maximum frame
 * (`u32::MAX - 16`) minus the p2p data overhead (16 bytes), i.e. `2^32 - 33`.
 */
export const MAX_MESSAGE_SIZE = 0xffff_ffff - 32;

/** The fields of both flavours' configurations. */
export interface SharedConfig {
  /**
   * Our identity: signs handshakes; its public key is our peer id.
   * Required. Local.
   */
  readonly signer: PrivateKey;
  /**
   * Application namespace, bound into every handshake signature (the stream uses
   * `namespace || "_STREAM"`), so networks of different applications cannot talk.
   * Required. Must match across peers.
   */
  readonly namespace: Uint8Array;
  /**
   * Socket address to listen on, parsed from `'ip:port'` (`'0.0.0.0:3000'`, `'[::]:3000'`;
   * port 0 binds an ephemeral port). Required. Local.
   */
  readonly listen: SocketAddr;
  /**
   * Maximum distinct peers in one registered set, counting ourselves (+1 if we are not in the
   * set). Bounds memory (retained peers = `maxPeersPerSet * trackedPeerSets`) and channel
   * mailbox capacity. Required, >= 1. Local.
   */
  readonly maxPeersPerSet: number;
  /**
   * Largest application message, in bytes. A larger send throws `MessageTooLarge`; a larger
   * inbound frame kills the connection. Required, 0..{@link MAX_MESSAGE_SIZE}.
   * Must match across peers (a peer with a smaller limit drops the connection).
   */
  readonly maxMessageSize: number;
  /**
   * Whether non-global IP addresses (RFC 1918, loopback, ...) may be dialed and accepted.
   * Default: `false` (recommended), `true` (local). Local.
   */
  readonly allowPrivateIps: boolean;
  /**
   * Whether DNS-name ingress addresses may be dialed (resolved IPs are still filtered by
   * `allowPrivateIps`). Default: `true` (both presets). Local.
   */
  readonly allowDns: boolean;
  /**
   * Capacity of internal actor mailboxes and of each peer's outbound queues (messages).
   * Default: 1000 (both presets). Local.
   */
  readonly mailboxSize: number;
  /**
   * Most queued messages written to a peer in one batch; 1 disables batching.
   * Default: 8 (both presets). Local.
   */
  readonly sendBatchSize: number;
  /**
   * How far in the future (ms) a handshake timestamp may be. Default: 5000 (both presets).
   * Must match across peers.
   */
  readonly synchronyBoundMs: number;
  /**
   * How old (ms) a handshake timestamp may be. Default: 10000 (both presets).
   * Must match across peers.
   */
  readonly maxHandshakeAgeMs: number;
  /**
   * Deadline (ms) for a whole inbound handshake. Default: 5000 (both presets).
   * Must match across peers.
   */
  readonly handshakeTimeoutMs: number;
  /**
   * Deadline (ms) for an outbound dial: DNS resolution, TCP connect and handshake.
   * Default: 15000 (both presets). Local.
   */
  readonly dialTimeoutMs: number;
  /**
   * Minimum time (ms) between two reservations (inbound or outbound) of the same peer; the next
   * dial waits a further random 0..cooldown. Default: 60000 (recommended), 1000 (local).
   * Must match across peers.
   */
  readonly peerConnectionCooldownMs: number;
  /**
   * Most inbound handshakes in progress at once; further connections are closed.
   * Default: 512 (recommended), 1024 (local). Local.
   */
  readonly maxConcurrentHandshakes: number;
  /**
   * Inbound handshake rate allowed per source IP (GCRA).
   * Default: 1 per 5 s (recommended), 16/s (local). Local.
   */
  readonly allowedHandshakeRatePerIp: Quota;
  /**
   * Inbound handshake rate allowed per source subnet (/24 IPv4, /48 IPv6).
   * Default: 64/s (recommended), 128/s (local). Local.
   */
  readonly allowedHandshakeRatePerSubnet: Quota;
  /**
   * Interval (ms) between dial attempts (at most one new dial per tick).
   * Default: 1000 (recommended), 500 (local). Local.
   */
  readonly dialFrequencyMs: number;
  /**
   * Number of peer sets retained; registering more evicts the lowest index.
   * Default: 4 (both presets). Local (but peers should register the same sets).
   */
  readonly trackedPeerSets: number;
  /**
   * How long (ms) a blocked peer is refused. Default: 14400000 = 4 h (recommended),
   * 3600000 = 1 h (local). Local.
   */
  readonly blockDurationMs: number;
}

/** The fields every preset takes as arguments. */
export type Required = 'signer' | 'namespace' | 'listen' | 'maxPeersPerSet' | 'maxMessageSize';

/** The shared fields a preset supplies defaults for. */
export type SharedDefaults = Omit<SharedConfig, Required>;

/** Production defaults of the shared fields (commonware `recommended`). */
export function recommendedDefaults(): SharedDefaults {
  return {
    allowPrivateIps: false,
    allowDns: true,
    mailboxSize: 1000,
    sendBatchSize: 8,
    synchronyBoundMs: 5_000,
    maxHandshakeAgeMs: 10_000,
    handshakeTimeoutMs: 5_000,
    dialTimeoutMs: 15_000,
    peerConnectionCooldownMs: 60_000,
    maxConcurrentHandshakes: 512,
    allowedHandshakeRatePerIp: Quota.withPeriod(5_000),
    allowedHandshakeRatePerSubnet: Quota.perSecond(64),
    dialFrequencyMs: 1_000,
    trackedPeerSets: 4,
    blockDurationMs: 4 * 60 * 60 * 1000,
  };
}

/** Defaults of the shared fields for peers on one machine or LAN (commonware `local`). */
export function localDefaults(): SharedDefaults {
  return {
    ...recommendedDefaults(),
    allowPrivateIps: true,
    peerConnectionCooldownMs: 1_000,
    maxConcurrentHandshakes: 1024,
    allowedHandshakeRatePerIp: Quota.perSecond(16),
    allowedHandshakeRatePerSubnet: Quota.perSecond(128),
    dialFrequencyMs: 500,
    blockDurationMs: 60 * 60 * 1000,
  };
}

/** Field checks for one flavour's config (`flavour` names it in messages). */
export class Checker {
  readonly #flavour: string;

  constructor(flavour: string) {
    this.#flavour = flavour;
  }

  /** An `InvalidConfig` error naming `field`. */
  invalid(field: string, why: string, cause?: unknown): P2PError {
    const message = `${this.#flavour} config: ${field} ${why}`;
    return new P2PError('InvalidConfig', message, cause === undefined ? undefined : { cause });
  }

  /** @throws P2PError unless `v` is an integer in `[min, max]`. */
  int(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw this.invalid(field, `must be an integer in [${min}, ${max}], got ${String(v)}`);
    }
  }

  /** @throws P2PError unless `v` is a boolean. */
  bool(field: string, v: unknown): void {
    if (typeof v !== 'boolean') throw this.invalid(field, `must be a boolean, got ${String(v)}`);
  }

  /** @throws P2PError unless `v` is a {@link Quota}. */
  quota(field: string, v: unknown): void {
    if (!(v instanceof Quota)) throw this.invalid(field, 'must be a Quota');
  }
}

/**
 * Merges `input` over `defaults` (an explicit `undefined` means the default), rejects unknown
 * fields, validates every shared field and returns the merged record with `listen` parsed and
 * `namespace` copied. The flavour validates its own fields on the result, then freezes it.
 *
 * @throws P2PError `InvalidConfig` naming the first invalid field.
 */
export function buildConfig(
  check: Checker,
  input: object,
  defaults: SharedDefaults & object,
): SharedConfig & Record<string, unknown> {
  if (typeof input !== 'object' || input === null) {
    throw check.invalid('options', 'must be an object');
  }
  const fields = new Set<string>([
    'signer',
    'namespace',
    'listen',
    'maxPeersPerSet',
    'maxMessageSize',
    ...Object.keys(defaults),
  ]);
  for (const key of Object.keys(input)) {
    if (!fields.has(key)) throw check.invalid(key, 'is not a config field');
  }
  const merged: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const c = merged as unknown as Omit<SharedConfig, 'listen'> & { listen: unknown };

  const signer = c.signer as unknown;
  if (typeof signer !== 'object' || signer === null || !('publicKey' in signer)) {
    throw check.invalid('signer', 'must be a private key');
  }
  if (!(c.namespace instanceof Uint8Array))
    throw check.invalid('namespace', 'must be a Uint8Array');
  let listen: SocketAddr;
  try {
    listen = parseSocketAddr(c.listen as string | SocketAddr);
  } catch (err) {
    throw check.invalid('listen', (err as Error).message, err);
  }
  check.int('maxPeersPerSet', c.maxPeersPerSet, 1);
  check.int('maxMessageSize', c.maxMessageSize, 0, MAX_MESSAGE_SIZE);
  check.bool('allowPrivateIps', c.allowPrivateIps);
  check.bool('allowDns', c.allowDns);
  check.int('mailboxSize', c.mailboxSize, 1);
  check.int('sendBatchSize', c.sendBatchSize, 1);
  check.int('synchronyBoundMs', c.synchronyBoundMs, 0);
  check.int('maxHandshakeAgeMs', c.maxHandshakeAgeMs, 0);
  check.int('handshakeTimeoutMs', c.handshakeTimeoutMs, 1);
  check.int('dialTimeoutMs', c.dialTimeoutMs, 1);
  check.int('peerConnectionCooldownMs', c.peerConnectionCooldownMs, 0);
  check.int('maxConcurrentHandshakes', c.maxConcurrentHandshakes, 1);
  check.quota('allowedHandshakeRatePerIp', c.allowedHandshakeRatePerIp);
  check.quota('allowedHandshakeRatePerSubnet', c.allowedHandshakeRatePerSubnet);
  check.int('dialFrequencyMs', c.dialFrequencyMs, 1);
  check.int('trackedPeerSets', c.trackedPeerSets, 1);
  check.int('blockDurationMs', c.blockDurationMs, 0);
  // The retained-peer bound sizes mailboxes; it must stay an exact integer.
  if (!Number.isSafeInteger(c.maxPeersPerSet * c.trackedPeerSets)) {
    throw check.invalid('trackedPeerSets', 'times maxPeersPerSet must be a safe integer');
  }
  merged.listen = listen;
  merged.namespace = c.namespace.slice();
  return merged as SharedConfig & Record<string, unknown>;
}

/** The tracker settings both flavours take from their config, unchanged. */
export function trackerSettings(config: SharedConfig): {
  readonly [K in keyof DirectoryConfig]-?: DirectoryConfig[K];
} & {
  readonly mailboxSize: number;
} {
  return {
    mailboxSize: config.mailboxSize,
    allowPrivateIps: config.allowPrivateIps,
    allowDns: config.allowDns,
    trackedPeerSets: config.trackedPeerSets,
    maxPeersPerSet: config.maxPeersPerSet,
    peerConnectionCooldownMs: config.peerConnectionCooldownMs,
    blockDurationMs: config.blockDurationMs,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
  };
}

/** The two presets every flavour's `Config` offers. */
export interface Presets<I, C> {
  /**
   * Production defaults (commonware `recommended`): public IPs only, 60 s reconnection
   * cooldown, 1 handshake per 5 s per IP, 4 h blocks; each field's doc gives its value.
   *
   * @throws P2PError `InvalidConfig` naming the first invalid field.
   */
  recommended(input: I): C;
  /**
   * Defaults for peers on one machine or LAN (commonware `local`): private IPs allowed, 1 s
   * cooldown, higher handshake rates, faster dialing and keep-alive, 1 h blocks.
   *
   * @throws P2PError `InvalidConfig` naming the first invalid field.
   */
  local(input: I): C;
}

/** The {@link Presets} of a flavour whose `build` merges an input over one of two default sets. */
export function presets<I, C, D>(
  build: (input: I, defaults: D) => C,
  recommended: () => D,
  local: () => D,
): Presets<I, C> {
  return Object.freeze({
    recommended: (input: I): C => build(input, recommended()),
    local: (input: I): C => build(input, local()),
  });
}
