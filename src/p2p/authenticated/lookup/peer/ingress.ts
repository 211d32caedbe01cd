/**
 * The control handle of one lookup peer actor (upstream `peer/ingress.rs`, whose only message is
 * `Kill`). The tracker holds it and calls {@link Mailbox.kill} when the peer becomes ineligible
 * (blocked, no longer tracked, address changed) or a newer connection supersedes it.
 *
 * A kill is a one-way latch rather than a queued message: it cannot be lost to a full queue,
 * repeating it is harmless, and it is observed ahead of any queued data (control > high > low).
 */
export class Mailbox {
  /** Settles once killed; raced (never consumed) by the actor. */
  readonly #killed: Promise<void>;
  #resolve: (() => void) | undefined;
  #isKilled = false;

  constructor() {
    // A bare latch (no AbortController: a Node AbortSignal carries two Maps, per peer).
    this.#killed = new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Asks the peer actor to end the connection (`PeerKilled`). Never waits; idempotent. */
  kill(): void {
    if (this.#isKilled) return;
    this.#isKilled = true;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }

  /** Whether {@link kill} has been called. */
  get isKilled(): boolean {
    return this.#isKilled;
  }

  /** @internal A promise that resolves on kill (a readiness arm for `select`). */
  get killed(): Promise<void> {
    return this.#killed;
  }
}
