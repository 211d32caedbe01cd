/**
 * Configuration of the lookup network (commonware `p2p/src/authenticated/lookup/config.rs`).
 *
 * Two presets build a complete, validated, frozen {@link Config}: {@link Config.recommended} for
 * production and {@link Config.local} for peers on one machine or LAN. Both take the same
 * arguments: the five required fields (`signer`, `namespace`, `listen`, `maxPeersPerSet`,
 * `maxMessageSize`) and any other field to override the preset. The fields both flavours have
 * are documented in `../config.ts`.
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
import type { SocketAddr } from '../../../runtime/context.js';
import {
  buildConfig,
  Checker,
  type Presets,
  presets,
  type Required,
  type SharedConfig,
  localDefaults as sharedLocal,
  recommendedDefaults as sharedRecommended,
} from '../config.js';

export { MAX_MESSAGE_SIZE } from '../config.js';

/** A complete lookup network configuration. Build one with `Config.recommended` or `Config.local`. */
export interface Config extends SharedConfig {
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
   * Interval (ms) between pings sent to each peer (keep-alive); a peer pinging faster than
   * once per `pingFrequencyMs / 2` is throttled. Default: 50000 (recommended), 5000 (local).
   * Must match across peers.
   */
  readonly pingFrequencyMs: number;
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

type Defaults = Omit<Config, Required>;

function recommendedDefaults(): Defaults {
  return { ...sharedRecommended(), bypassIpCheck: false, pingFrequencyMs: 50_000 };
}

function localDefaults(): Defaults {
  return { ...sharedLocal(), bypassIpCheck: false, pingFrequencyMs: 5_000 };
}

const check = new Checker('lookup');

function build(input: ConfigInput, defaults: Defaults): Config {
  const c = buildConfig(check, input, defaults);
  check.bool('bypassIpCheck', c.bypassIpCheck);
  check.int('pingFrequencyMs', c.pingFrequencyMs, 2);
  return Object.freeze(c as unknown as Config);
}

/** The presets that build a {@link Config}: `Config.recommended(...)` and `Config.local(...)`. */
export const Config: Presets<ConfigInput, Config> = presets(
  build,
  recommendedDefaults,
  localDefaults,
);
