/**
 * The simulated network's configuration (commonware `simulated/network.rs` `Config`), checked
 * once at `Network.create`.
 *
 * @module
 */

import { P2PError } from '../errors.js';

/**
 * The largest message the simulated network carries, in bytes (upstream `u32::MAX - 8`: a
 * length prefix and a channel fit in a 32-bit frame).
 */
export const MAX_SIZE = 2 ** 32 - 1 - 8;

/** What `Network.create` accepts. */
export interface Config {
  /** Largest application message a sender accepts, in bytes (at most {@link MAX_SIZE}). */
  readonly maxSize: number;
  /** Most distinct peers one registered set may hold (at least 1). */
  readonly maxPeersPerSet: number;
  /**
   * Whether a block cuts the pair off: when true, a peer that blocks another neither sends to
   * it nor receives from it (both directions), and neither counts the other as connected.
   * When false, blocks are only recorded (`oracle.blocked()`).
   */
  readonly disconnectOnBlock: boolean;
  /** How many peer sets are retained (the highest indices); at least 1. */
  readonly trackedPeerSets: number;
  /**
   * Capacity of the network's ingress queue of sends (one entry per `send` call, whatever the
   * number of recipients). A send that finds it full returns `[]`. Default 65,536.
   */
  readonly mailboxSize?: number;
  /**
   * Most messages (one per recipient) in flight at once: transmitting or waiting for their
   * arrival time. A message beyond it is dropped and counted in `messages_dropped`.
   * Default 4,194,304.
   */
  readonly maxInFlight?: number;
}

/** A {@link Config} with every default applied. @internal */
export interface Settings {
  readonly maxSize: number;
  readonly maxPeersPerSet: number;
  readonly disconnectOnBlock: boolean;
  readonly trackedPeerSets: number;
  readonly mailboxSize: number;
  readonly maxInFlight: number;
}

function positive(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new P2PError('InvalidConfig', `${name} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/**
 * Validates `config` and applies the defaults.
 *
 * @throws P2PError `InvalidConfig` naming the first bad field.
 */
export function settings(config: Config): Settings {
  if (typeof config.disconnectOnBlock !== 'boolean') {
    throw new P2PError('InvalidConfig', 'disconnectOnBlock must be a boolean');
  }
  return Object.freeze({
    maxSize: positive('maxSize', config.maxSize, 0, MAX_SIZE),
    maxPeersPerSet: positive('maxPeersPerSet', config.maxPeersPerSet, 1),
    disconnectOnBlock: config.disconnectOnBlock,
    trackedPeerSets: positive('trackedPeerSets', config.trackedPeerSets, 1),
    mailboxSize: positive('mailboxSize', config.mailboxSize ?? 65_536, 1),
    maxInFlight: positive('maxInFlight', config.maxInFlight ?? 4_194_304, 1),
  });
}
