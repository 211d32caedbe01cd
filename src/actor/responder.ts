/**
 * A one-shot reply slot carried inside a request message: the TypeScript stand-in for a Rust
 * `oneshot::Sender`. Dropping the Rust sender makes the receiver observe `None`; here the owner
 * calls {@link Responder.close} (or the mailbox does, when it discards the message), and the
 * paired promise resolves `undefined`.
 */
export class Responder<T> {
  #resolve: ((value: T | undefined) => void) | undefined;

  /** Use {@link responder} to create a pair; the constructor takes the promise's resolver. */
  constructor(resolve: (value: T | undefined) => void) {
    this.#resolve = resolve;
  }

  /** Resolves the paired promise with `value`. Returns false (and does nothing) if already settled. */
  send(value: T): boolean {
    const resolve = this.#resolve;
    if (resolve === undefined) return false;
    this.#resolve = undefined;
    resolve(value);
    return true;
  }

  /** Resolves the paired promise with `undefined` ("no answer"). Returns false if already settled. */
  close(): boolean {
    const resolve = this.#resolve;
    if (resolve === undefined) return false;
    this.#resolve = undefined;
    resolve(undefined);
    return true;
  }

  /** True once `send` or `close` has been called. */
  get isSettled(): boolean {
    return this.#resolve === undefined;
  }
}

/** Creates a {@link Responder} and the promise it settles (exactly once). */
export function responder<T>(): [Responder<T>, Promise<T | undefined>] {
  let r!: Responder<T>;
  const promise = new Promise<T | undefined>((resolve) => {
    r = new Responder<T>(resolve);
  });
  return [r, promise];
}

/**
 * If `message` is an object with a `responder` field holding a {@link Responder}, closes it
 * (settling its promise with `undefined`) and returns true. This is how mailboxes honour the
 * "every responder is settled" rule for messages they discard: the detection is structural, so
 * request messages only need a field named `responder`.
 */
export function closeResponderOf(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const r = (message as { responder?: unknown }).responder;
  return r instanceof Responder ? r.close() : false;
}

/** True if `message` carries a {@link Responder} in a field named `responder`. */
export function hasResponder(message: unknown): boolean {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { responder?: unknown }).responder instanceof Responder
  );
}
