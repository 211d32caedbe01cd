/**
 * The discovery network object (commonware `discovery/network.rs`): the shared network core
 * (`../network.ts`) around the discovery tracker, whose peers gossip signed address records.
 *
 * @module
 */

import type { Context } from '../../../runtime/context.js';
import { BaseNetwork } from '../base-network.js';
import { trackerSettings } from '../config.js';
import { type FlavourParts, NetworkCore, type StatusSource } from '../network.js';
import type { Config } from './config.js';
import { Info, InfoVerifier } from './info.js';
import { Oracle } from './oracle.js';
import { peerFlavour } from './peer/actor.js';
import { Actor as Tracker, type Mailbox as TrackerMailbox } from './tracker/index.js';
import { maxGossipFrame } from './types.js';

/** Distinct bootstrappers other than ourselves: each may hold a connection outside every set. */
function extraBootstrappers(config: Config): number {
  const keys = new Set<string>();
  const me = config.signer.publicKey.toHex();
  for (const [key] of config.bootstrappers) if (key.toHex() !== me) keys.add(key.toHex());
  return keys.size;
}

/**
 * A discovery network: authenticated, encrypted connections to the peers of the sets the
 * application registers, whose addresses are learned by gossip of signed records, starting from
 * the configured bootstrappers. Create it with {@link Network.create}, register channels, then
 * {@link Network.start} it.
 */
export class Network extends BaseNetwork {
  readonly #config: Config;
  readonly #tracker: Tracker;
  readonly #trackerMailbox: TrackerMailbox;
  readonly #myself: Info;
  readonly #verifier: InfoVerifier;

  private constructor(context: Context, config: Config) {
    super(
      new NetworkCore(
        context,
        config,
        config.maxPeersPerSet * config.trackedPeerSets + extraBootstrappers(config),
        maxGossipFrame(config.maxPeersPerSet, config.peerGossipMaxCount),
      ),
    );
    this.#config = config;
    // Our record is signed once, at creation, with the current time (upstream signs at startup).
    this.#myself = Info.sign(config.signer, config.namespace, config.dialable, context.clock.now());
    this.#verifier = new InfoVerifier({
      myself: config.signer.publicKey,
      namespace: config.namespace,
      synchronyBoundMs: config.synchronyBoundMs,
      peerGossipMaxCount: config.peerGossipMaxCount,
    });
    const network = context.child('network');
    [this.#tracker, this.#trackerMailbox] = Tracker.create(
      {
        ...trackerSettings(config),
        myself: this.#myself,
        bootstrappers: config.bootstrappers,
        dialFailLimit: config.dialFailLimit,
        peerGossipMaxCount: config.peerGossipMaxCount,
      },
      {
        rng: context.rng,
        metrics: this.core.trackerMetrics(network),
      },
    );
  }

  /**
   * Creates a discovery network (running under `context`, its tasks and metrics under
   * `context`'s label path plus `network`) and the oracle through which the application
   * registers its peer sets; the oracle may be used at once, its requests are handled when the
   * network starts.
   *
   * @param config - from `Config.local(...)` or `Config.recommended(...)`.
   */
  static create(context: Context, config: Config): [Network, Oracle] {
    const network = new Network(context, config);
    return [network, network.#oracle(context)];
  }

  #oracle(context: Context): Oracle {
    const tracker = this.#tracker;
    const log = context.log.child({ actor: 'oracle' });
    return new Oracle(
      this.#trackerMailbox,
      (peers) => tracker.checkSize(peers),
      log,
      context.signal,
    );
  }

  /** Our signed address record, as peers receive it in our Greeting. */
  get info(): Info {
    return this.#myself;
  }

  /** This network's flavour. */
  readonly flavour = 'discovery' as const;

  protected get statusSource(): StatusSource {
    return this.#trackerMailbox;
  }

  protected parts(ctx: Context): FlavourParts {
    const tracker = this.#tracker;
    const mailbox = this.#trackerMailbox;
    // `network_info_verifications{peer}`; its series go with the peer's others when it is forgotten.
    const verifications = ctx.metrics.counter(
      'info_verifications',
      'Signatures of peer records (Info) verified, by the peer that sent the records',
      ['peer'],
    );
    return {
      startTracker: (c, events) => tracker.start(c, events),
      tracker: mailbox,
      peers: peerFlavour(
        this.#config,
        this.core.channels,
        mailbox,
        this.#myself,
        this.#verifier,
        verifications,
      ),
    };
  }
}
