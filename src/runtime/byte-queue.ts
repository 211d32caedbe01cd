/**
 * `n` uninitialised bytes as a plain Uint8Array, for a copy that overwrites all of them: skips
 * the zero fill of `new Uint8Array(n)` (measurable for 64 KiB frames spanning two socket reads).
 * Its own allocation, never a slice of Node's shared Buffer pool (for `n` >= 4 KiB that is what
 * `Buffer.allocUnsafe` does anyway): the result's `.buffer` then holds these bytes only, not
 * whatever else the process keeps in the pool.
 */
function uninitialised(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/**
 * A buffer of at least `n` bytes for a read to be copied into (see {@link ByteQueue.take}); the
 * caller that passes it owns it and decides when it may be reused.
 */
export type Scratch = (n: number) => Uint8Array;

/**
 * A FIFO of received chunks with exact-length reads. `take(n)` returns a view into the head
 * chunk when it alone holds `n` bytes (no copy), and copies only when a read spans chunks.
 */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  /** Offset of the first unread byte within the head chunk. */
  #offset = 0;
  /** Unread bytes in total. */
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * Removes and returns exactly `n <= length` bytes. When they span chunks they are copied into
   * one buffer: `scratch(n)` (at least `n` bytes; the result is then a view of its first `n`) if
   * given, else a fresh allocation of exactly `n`. `scratch` is called at most once, and only
   * then: a view of one chunk needs no buffer.
   */
  take(n: number, scratch?: Scratch): Uint8Array {
    this.length -= n;
    const first = this.#chunks[this.#head] as Uint8Array;
    const avail = first.length - this.#offset;
    if (n <= avail) {
      const out = first.subarray(this.#offset, this.#offset + n);
      if (n === avail) this.#drop();
      else this.#offset += n;
      return out;
    }
    const out = scratch === undefined ? uninitialised(n) : scratch(n).subarray(0, n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[this.#head] as Uint8Array;
      const k = Math.min(chunk.length - this.#offset, n - filled);
      out.set(chunk.subarray(this.#offset, this.#offset + k), filled);
      filled += k;
      if (this.#offset + k === chunk.length) this.#drop();
      else this.#offset += k;
    }
    return out;
  }

  /**
   * Up to `max` unread bytes, without consuming them (a view: do not modify it). When they span
   * chunks, the chunks they cover are merged into one in place (the same bytes, the same total),
   * so a `take` of those bytes that follows, the usual next step, is a view rather than a second
   * copy.
   */
  peek(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    if (n <= 0) return new Uint8Array(0);
    const chunks = this.#chunks;
    const first = chunks[this.#head] as Uint8Array;
    if (n <= first.length - this.#offset) return first.subarray(this.#offset, this.#offset + n);
    const out = uninitialised(n);
    let filled = 0;
    let offset = this.#offset;
    let i = this.#head;
    let rest: Uint8Array | undefined;
    for (; filled < n; i++) {
      const chunk = chunks[i] as Uint8Array;
      const k = Math.min(chunk.length - offset, n - filled);
      out.set(chunk.subarray(offset, offset + k), filled);
      filled += k;
      // The last chunk covered in part keeps its unread tail as a chunk of its own.
      if (offset + k < chunk.length) rest = chunk.subarray(offset + k);
      offset = 0;
    }
    if (rest === undefined) chunks.splice(this.#head, i - this.#head, out);
    else chunks.splice(this.#head, i - this.#head, out, rest);
    this.#offset = 0;
    return out;
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.length = 0;
  }

  #drop(): void {
    this.#offset = 0;
    this.#head++;
    // Compact lazily: shifting on every read would be O(n) per chunk.
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
