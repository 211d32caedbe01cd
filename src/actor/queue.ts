/** The storage of every empty, never-used deque (never written: the first push replaces it). */
const NONE: never[] = Object.freeze([]) as never[];

/**
 * A growable ring-buffer FIFO (internal). No storage until the first push; then `initial` slots
 * (rounded up to a power of two), doubling as needed, so a mailbox with a large capacity costs
 * nothing until it is used, and little until it fills. Slots are cleared on removal so taken
 * messages can be collected.
 *
 * @internal
 */
export class Deque<T> {
  #buf: (T | undefined)[] = NONE;
  /** Slots minus one; until the first push, the first allocation's size (a power of two). */
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(initial = 16) {
    let cap = 1;
    while (cap < initial) cap *= 2;
    this.#mask = cap;
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  /** Removes and returns the oldest item (undefined if empty). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const i = this.#head;
    const item = this.#buf[i];
    this.#buf[i] = undefined;
    this.#head = (i + 1) & this.#mask;
    this.#size--;
    return item;
  }

  /** Removes up to `max` oldest items, appending them to `out`. */
  shiftInto(out: T[], max: number): void {
    let n = Math.min(max, this.#size);
    const buf = this.#buf;
    const mask = this.#mask;
    let i = this.#head;
    this.#size -= n;
    while (n-- > 0) {
      out.push(buf[i] as T);
      buf[i] = undefined;
      i = (i + 1) & mask;
    }
    this.#head = i;
  }

  /** Removes every item, returning them oldest first. */
  takeAll(): T[] {
    const out: T[] = [];
    this.shiftInto(out, this.#size);
    return out;
  }

  #grow(): void {
    const old = this.#buf;
    if (old.length === 0) {
      this.#buf = new Array<T | undefined>(this.#mask);
      this.#mask -= 1;
      return;
    }
    const next = new Array<T | undefined>(old.length * 2);
    for (let k = 0; k < this.#size; k++) next[k] = old[(this.#head + k) & this.#mask];
    this.#buf = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }
}
