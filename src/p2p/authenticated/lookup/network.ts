/**
 * The lookup network object (commonware `lookup/network.rs`): explicit wiring of the tracker,
 * router, spawner, listener and dialer around the application's channels.
 *
 * @module
 */

import type { Context } from '../../../runtime/context.js';
import { BaseNetwork } from '../base-network.js';
import { trackerSettings } from '../config.js';
import { type FlavourParts, NetworkCore, type StatusSource } from '../network.js';
import type { Config } from './config.js';
import { Oracle } from './oracle.js';
import { peerFlavour } from './peer/index.js';
import { RegisteredIps } from './registered-ips.js';
import { Actor as Tracker, type Mailbox as TrackerMailbox } from './tracker/index.js';

export { streamConfig } from '../network.js';

/**
 * A lookup network: authenticated, encrypted connections to the peers the application registers
 * with their addresses. Create it with {@link Network.create}, register channels, then
 * {@link Network.start} it.
 */
export class Network extends BaseNetwork {
  readonly #config: Config;
  readonly #tracker: Tracker;
  readonly #trackerMailbox: TrackerMailbox;

  private constructor(context: Context, config: Config) {
    super(new NetworkCore(context, config, config.maxPeersPerSet * config.trackedPeerSets));
    this.#config = config;
    const network = context.child('network');
    [this.#tracker, this.#trackerMailbox] = Tracker.create(
      {
        ...trackerSettings(config),
        myself: config.signer.publicKey,
        bypassIpCheck: config.bypassIpCheck,
      },
      {
        rng: context.rng,
        metrics: this.core.trackerMetrics(network),
      },
    );
  }

  /**
   * Creates a network and its oracle. The network runs under `context` (its tasks and metrics
   * live under `context`'s label path plus `network`); the oracle may be used at once, its
   * requests are handled when the network starts.
   *
   * @param config - from `Config.local(...)` or `Config.recommended(...)`.
   */
  static create(context: Context, config: Config): [Network, Oracle] {
    const network = new Network(context, config);
    const tracker = network.#tracker;
    const oracle = new Oracle(
      network.#trackerMailbox,
      (peers) => tracker.checkSize(peers),
      context.log.child({ actor: 'oracle' }),
      context.signal,
    );
    return [network, oracle];
  }

  /** This network's flavour. */
  readonly flavour = 'lookup' as const;

  protected get statusSource(): StatusSource {
    return this.#trackerMailbox;
  }

  protected parts(): FlavourParts {
    const config = this.#config;
    const tracker = this.#tracker;
    const mailbox = this.#trackerMailbox;
    return {
      startTracker: (ctx, events) => tracker.start(ctx, events),
      tracker: mailbox,
      peers: peerFlavour(config, this.core.channels, mailbox),
      ...(config.bypassIpCheck ? {} : { filter: new RegisteredIps(mailbox.listenerAllowList()) }),
    };
  }
}
