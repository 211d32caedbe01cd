import { createHash, type Hash } from 'node:crypto';

const SCRATCH = 8192;

/** Event kinds as they enter the digest (one byte each). */
export const EVENT = {
  timer: 1,
  taskStart: 2,
  taskEnd: 3,
  send: 4,
  connOpen: 5,
  connClose: 6,
  bind: 7,
  unbind: 8,
  dialRefused: 9,
  endOfTurn: 10,
} as const;

/**
 * A running SHA-256 over the events of a run. Events are packed into a scratch buffer and hashed
 * in blocks, so a timer event costs a few stores rather than a call into the hash.
 */
export class Digest {
  readonly #hash: Hash = createHash('sha256');
  readonly #buf = Buffer.allocUnsafe(SCRATCH);
  #pos = 0;
  /** Events recorded so far. */
  events = 0;

  #room(n: number): void {
    if (this.#pos + n > SCRATCH) this.#flush();
  }

  #flush(): void {
    if (this.#pos === 0) return;
    this.#hash.update(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
  }

  /** Starts an event: its kind byte. */
  kind(k: number): this {
    this.events++;
    this.#room(1);
    this.#buf[this.#pos++] = k;
    return this;
  }

  f64(v: number): this {
    this.#room(8);
    this.#buf.writeDoubleLE(v, this.#pos);
    this.#pos += 8;
    return this;
  }

  str(s: string): this {
    const n = Buffer.byteLength(s);
    this.f64(n);
    if (n > 1024) {
      this.#flush();
      this.#hash.update(s);
      return this;
    }
    this.#room(n);
    this.#pos += this.#buf.write(s, this.#pos);
    return this;
  }

  /** Raw bytes (the payload of a send), hashed in place. */
  bytes(b: Uint8Array): this {
    if (b.length <= 256) {
      this.#room(b.length);
      this.#buf.set(b, this.#pos);
      this.#pos += b.length;
      return this;
    }
    this.#flush();
    this.#hash.update(b);
    return this;
  }

  /** The hex digest of everything recorded so far (recording may continue). */
  hex(): string {
    this.#flush();
    return this.#hash.copy().digest('hex');
  }
}
