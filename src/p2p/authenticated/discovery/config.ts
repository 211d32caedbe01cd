/**
 * Configuration of the discovery network (commonware
 * `p2p/src/authenticated/discovery/config.rs`).
 *
 * Two presets build a complete, validated, frozen {@link Config}: {@link Config.recommended} for
 * production and {@link Config.local} for peers on one machine or LAN. Both take the required
 * fields (`signer`, `namespace`, `listen`, `dialable`, `bootstrappers`, `maxPeersPerSet`,
 * `maxMessageSize`) and any other field to override the preset. The fields both flavours have
 * are documented in `../config.ts`; this file adds the discovery ones.
 *
 * Errors: every invalid value throws `P2PError` with code `InvalidConfig` and a message naming
 * the field; unknown field names are rejected.
 *
 * Interoperability: config should match across peers except `signer`, `listen`, `dialable`,
 * `bootstrappers`, `allowPrivateIps`, `maxPeersPerSet`, `mailboxSize`, `sendBatchSize` and
 * `dialTimeoutMs` (upstream's note).
 *
 * @module
 */

import type { PrivateKey, PublicKey } from '../../../crypto/ed25519.js';
import type { SocketAddr } from '../../../runtime/context.js';
import { type Ingress, type IngressInput, parseIngress } from '../../address.js';
import type { Presets, Required, SharedConfig } from '../config.js';
import * as shared from '../config.js';

export { MAX_MESSAGE_SIZE } from '../config.js';

/** A complete discovery network configuration. Build one with `Config.recommended` or `Config.local`. */
export interface Config extends SharedConfig {
  /**
   * The address other peers should dial to reach us, advertised in our signed `Info` (an
   * `'ip:port'` socket address or a `'host:port'` DNS name). Required. Local.
   */
  readonly dialable: Ingress;
  /**
   * Peers to dial from the start, with their addresses: the entry points of the network. Their
   * records are kept even when they are in no registered set (they are still refused unless
   * tracked or bootstrappers). Required (may be empty for a bootstrapper that dials nobody).
   * Local.
   */
  readonly bootstrappers: readonly (readonly [PublicKey, Ingress])[];
  /**
   * Failed dials to a discovered address after which we ask peers for a fresher record of that
   * peer (its knowledge bit flips back to 0). Default: 2 (recommended), 1 (local). Must match.
   */
  readonly dialFailLimit: number;
  /**
   * Period (ms) of the BitVec sent to each connected peer (it asks for the records we lack and
   * doubles as keep-alive); inbound BitVec and Peers are limited to one per half period, the
   * first of each exempt. Default: 50000 (recommended), 5000 (local). Must match across peers.
   */
  readonly gossipBitVecFrequencyMs: number;
  /**
   * Most signed records in one Peers message (bounds decoding; larger answers are a random
   * subset). Default: 32 (both presets). Must match across peers.
   */
  readonly peerGossipMaxCount: number;
}

type Defaults = Omit<Config, Required | 'dialable' | 'bootstrappers'>;

/** The required arguments plus optional overrides accepted by the presets. */
export type ConfigInput = {
  readonly signer: PrivateKey;
  readonly namespace: Uint8Array;
  /** `'ip:port'`, or a socket address object. */
  readonly listen: string | SocketAddr;
  /** `'ip:port'`, `'host:port'`, a socket address or an {@link Ingress}. */
  readonly dialable: IngressInput;
  /** `[publicKey, address]` pairs; addresses as for `dialable`. */
  readonly bootstrappers: Iterable<readonly [PublicKey, IngressInput]>;
  readonly maxPeersPerSet: number;
  readonly maxMessageSize: number;
} & { readonly [K in keyof Defaults]?: Defaults[K] | undefined };

function recommendedDefaults(): Defaults {
  return {
    ...shared.recommendedDefaults(),
    dialFailLimit: 2,
    gossipBitVecFrequencyMs: 50_000,
    peerGossipMaxCount: 32,
  };
}

function localDefaults(): Defaults {
  return {
    ...shared.localDefaults(),
    dialFailLimit: 1,
    gossipBitVecFrequencyMs: 5_000,
    peerGossipMaxCount: 32,
  };
}

const check = new shared.Checker('discovery');

function ingress(field: string, input: unknown): Ingress {
  try {
    return parseIngress(input as IngressInput);
  } catch (err) {
    throw check.invalid(field, (err as Error).message, err);
  }
}

function build(input: ConfigInput, defaults: Defaults): Config {
  const { dialable, bootstrappers, ...rest } = (input ?? {}) as ConfigInput;
  const c = shared.buildConfig(check, rest, defaults);
  const parsedDialable = ingress('dialable', dialable);
  if (bootstrappers === undefined || bootstrappers === null) {
    throw check.invalid('bootstrappers', 'is required (may be empty)');
  }
  if (typeof (bootstrappers as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw check.invalid('bootstrappers', 'must be a list of [publicKey, address] pairs');
  }
  const parsed: (readonly [PublicKey, Ingress])[] = [];
  let i = 0;
  for (const entry of bootstrappers) {
    const [key, address] = (entry ?? []) as readonly [unknown, unknown];
    if (typeof key !== 'object' || key === null || !('toHex' in key)) {
      throw check.invalid(`bootstrappers[${i}]`, 'must start with a public key');
    }
    parsed.push(
      Object.freeze([key as PublicKey, ingress(`bootstrappers[${i}]`, address)] as const),
    );
    i++;
  }
  check.int('dialFailLimit', c.dialFailLimit, 1);
  check.int('gossipBitVecFrequencyMs', c.gossipBitVecFrequencyMs, 2);
  check.int('peerGossipMaxCount', c.peerGossipMaxCount, 1);
  return Object.freeze({
    ...(c as unknown as Omit<Config, 'dialable' | 'bootstrappers'>),
    dialable: parsedDialable,
    bootstrappers: Object.freeze(parsed),
  });
}

/** The presets that build a {@link Config}: `Config.recommended(...)` and `Config.local(...)`. */
export const Config: Presets<ConfigInput, Config> = shared.presets(
  build,
  recommendedDefaults,
  localDefaults,
);
