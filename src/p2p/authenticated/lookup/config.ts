/**
 * Configuration of the lookup network (commonware `p2p/src/authenticated/lookup/config.rs`).
 *
 * Two presets build a complete, validated, frozen {@link Config}: {@link Config.recommended} for
 * production and {@link Config.local} for peers on one machine or LAN. Both take the same
 * arguments: the five required fields (`signer`, `namespace`, `listen`, `maxPeersPerSet`,
 * `maxMessageSize`) and any other field to override the preset.
 *
 * Errors: every invalid value throws `P2PError` with code `InvalidConfig` and a message naming
 * the field (one error class for the module, so callers need only one `catch` branch). Unknown
 * field names are rejected too, so a misspelt override cannot silently fall back to a default.
 *
 * Interoperability: fields marked "must match across peers" change what a remote peer accepts
 * (namespace, handshake timing, message size, ping rate) and should be equal on every peer of
 * one network; the others are local policy.
 *
 * @module
 */

import type { PrivateKey } from '../../../crypto/ed25519.js';
import { Quota } from '../../../quota/index.js';
import type { SocketAddr } from '../../../runtime/context.js';
import { parseSocketAddr } from '../../address.js';
import { P2PError } from '../../errors.js';

/**
 * The largest application payload: commonware `MAX_SIZE` = the stream's maximum frame
 * (`u32::MAX - 16`) minus the p2p data overhead (16 bytes), i.e. `2^32 - 33`.
 */
export const MAX_MESSAGE_SIZE = 0xffff_ffff - 32;

/** A complete lookup network configuration. Build one with {@link Config.recommended} or {@link Config.local}. */
export interface Config {
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
   * Whether inbound connections skip the check that they come from the peer's registered egress
   * IP. Default: `false` (both presets). Local. Enabling it lets any holder of a peer's key
   * connect from anywhere. Even when `false`, a peer registered by a bare DNS name
   * (`'host:port'`, a `named` address) has no known egress IP and is accepted from any source
   * IP, and while such a peer is eligible the listener admits every source IP to the handshake
   * (per-IP, per-subnet and concurrency limits still apply); register
   * `{ ingress: 'host:port', egress: 'ip:port' }` to keep the IP check for that peer.
   */
  readonly bypassIpCheck: boolean;
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
   * Interval (ms) between pings sent to each peer (keep-alive); a peer pinging faster than
   * once per `pingFrequencyMs / 2` is throttled. Default: 50000 (recommended), 5000 (local).
   * Must match across peers.
   */
  readonly pingFrequencyMs: number;
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

/** The required arguments plus optional overrides accepted by the presets. */
export type ConfigInput = {
  readonly signer: PrivateKey;
  readonly namespace: Uint8Array;
  /** `'ip:port'`, or a socket address object. */
  readonly listen: string | SocketAddr;
  readonly maxPeersPerSet: number;
  readonly maxMessageSize: number;
} & { readonly [K in keyof Defaults]?: Defaults[K] | undefined };

type Defaults = Omit<
  Config,
  'signer' | 'namespace' | 'listen' | 'maxPeersPerSet' | 'maxMessageSize'
>;

function recommendedDefaults(): Defaults {
  return {
    allowPrivateIps: false,
    allowDns: true,
    bypassIpCheck: false,
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
    pingFrequencyMs: 50_000,
    trackedPeerSets: 4,
    blockDurationMs: 4 * 60 * 60 * 1000,
  };
}

function localDefaults(): Defaults {
  return {
    ...recommendedDefaults(),
    allowPrivateIps: true,
    peerConnectionCooldownMs: 1_000,
    maxConcurrentHandshakes: 1024,
    allowedHandshakeRatePerIp: Quota.perSecond(16),
    allowedHandshakeRatePerSubnet: Quota.perSecond(128),
    dialFrequencyMs: 500,
    pingFrequencyMs: 5_000,
    blockDurationMs: 60 * 60 * 1000,
  };
}

const FIELDS: ReadonlySet<string> = new Set([
  'signer',
  'namespace',
  'listen',
  'maxPeersPerSet',
  'maxMessageSize',
  ...Object.keys(recommendedDefaults()),
]);

function invalid(field: string, why: string): P2PError {
  return new P2PError('InvalidConfig', `lookup config: ${field} ${why}`);
}

function checkInt(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(field, `must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
}

function checkBool(field: string, v: unknown): void {
  if (typeof v !== 'boolean') throw invalid(field, `must be a boolean, got ${String(v)}`);
}

function build(input: ConfigInput, defaults: Defaults): Config {
  if (typeof input !== 'object' || input === null) {
    throw new P2PError('InvalidConfig', 'lookup config: expected an options object');
  }
  for (const key of Object.keys(input)) {
    if (!FIELDS.has(key)) throw invalid(key, 'is not a lookup config field');
  }
  // Explicit `undefined` means "use the default", as if the field were omitted.
  const merged: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(input)) if (v !== undefined) merged[k] = v;
  const c = merged as unknown as Omit<Config, 'listen'> & { listen: unknown };

  const signer = c.signer as unknown;
  if (typeof signer !== 'object' || signer === null || !('publicKey' in signer)) {
    throw invalid('signer', 'must be a private key');
  }
  if (!(c.namespace instanceof Uint8Array)) throw invalid('namespace', 'must be a Uint8Array');
  let listen: SocketAddr;
  try {
    listen = parseSocketAddr(c.listen as string | SocketAddr);
  } catch (err) {
    throw new P2PError('InvalidConfig', `lookup config: listen ${(err as Error).message}`, {
      cause: err,
    });
  }
  checkInt('maxPeersPerSet', c.maxPeersPerSet, 1);
  checkInt('maxMessageSize', c.maxMessageSize, 0, MAX_MESSAGE_SIZE);
  checkBool('allowPrivateIps', c.allowPrivateIps);
  checkBool('allowDns', c.allowDns);
  checkBool('bypassIpCheck', c.bypassIpCheck);
  checkInt('mailboxSize', c.mailboxSize, 1);
  checkInt('sendBatchSize', c.sendBatchSize, 1);
  checkInt('synchronyBoundMs', c.synchronyBoundMs, 0);
  checkInt('maxHandshakeAgeMs', c.maxHandshakeAgeMs, 0);
  checkInt('handshakeTimeoutMs', c.handshakeTimeoutMs, 1);
  checkInt('dialTimeoutMs', c.dialTimeoutMs, 1);
  checkInt('peerConnectionCooldownMs', c.peerConnectionCooldownMs, 0);
  checkInt('maxConcurrentHandshakes', c.maxConcurrentHandshakes, 1);
  if (!(c.allowedHandshakeRatePerIp instanceof Quota)) {
    throw invalid('allowedHandshakeRatePerIp', 'must be a Quota');
  }
  if (!(c.allowedHandshakeRatePerSubnet instanceof Quota)) {
    throw invalid('allowedHandshakeRatePerSubnet', 'must be a Quota');
  }
  checkInt('dialFrequencyMs', c.dialFrequencyMs, 1);
  checkInt('pingFrequencyMs', c.pingFrequencyMs, 2);
  checkInt('trackedPeerSets', c.trackedPeerSets, 1);
  checkInt('blockDurationMs', c.blockDurationMs, 0);
  // The retained-peer bound sizes mailboxes; it must stay an exact integer.
  if (!Number.isSafeInteger(c.maxPeersPerSet * c.trackedPeerSets)) {
    throw invalid('trackedPeerSets', 'times maxPeersPerSet must be a safe integer');
  }

  return Object.freeze({
    signer: c.signer,
    namespace: c.namespace.slice(),
    listen,
    maxPeersPerSet: c.maxPeersPerSet,
    maxMessageSize: c.maxMessageSize,
    allowPrivateIps: c.allowPrivateIps,
    allowDns: c.allowDns,
    bypassIpCheck: c.bypassIpCheck,
    mailboxSize: c.mailboxSize,
    sendBatchSize: c.sendBatchSize,
    synchronyBoundMs: c.synchronyBoundMs,
    maxHandshakeAgeMs: c.maxHandshakeAgeMs,
    handshakeTimeoutMs: c.handshakeTimeoutMs,
    dialTimeoutMs: c.dialTimeoutMs,
    peerConnectionCooldownMs: c.peerConnectionCooldownMs,
    maxConcurrentHandshakes: c.maxConcurrentHandshakes,
    allowedHandshakeRatePerIp: c.allowedHandshakeRatePerIp,
    allowedHandshakeRatePerSubnet: c.allowedHandshakeRatePerSubnet,
    dialFrequencyMs: c.dialFrequencyMs,
    pingFrequencyMs: c.pingFrequencyMs,
    trackedPeerSets: c.trackedPeerSets,
    blockDurationMs: c.blockDurationMs,
  });
}

/** The presets that build a {@link Config}. */
export const Config = {
  /**
   * Production defaults: public IPs only, 60 s reconnection cooldown, 1 handshake per 5 s per
   * IP, 4 h blocks.
   *
   * @throws P2PError `InvalidConfig` naming the first invalid field.
   */
  recommended(input: ConfigInput): Config {
    return build(input, recommendedDefaults());
  },
  /**
   * Defaults for peers on one machine or LAN: private IPs allowed, 1 s cooldown, higher
   * handshake rates, faster dialing and pinging, 1 h blocks.
   *
   * @throws P2PError `InvalidConfig` naming the first invalid field.
   */
  local(input: ConfigInput): Config {
    return build(input, localDefaults());
  },
} as const;
