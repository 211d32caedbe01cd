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

/** What `peek` returns when nothing is buffered (empty: nothing to modify). */
const EMPTY = new Uint8Array(0);

/**
 * A FIFO of received chunks with exact-length reads. `take(n)` returns a view into the head
 * chunk when it alone holds `n` bytes (no copy), and copies only when a read spans chunks.
 *
 * The head chunk is a field of its own and the chunks behind it an array made when a second
 * chunk waits: an idle connection's queue, and one that reads each chunk before the next
 * arrives (the usual case), hold and allocate no array.
 */
export class ByteQueue {
  /** The first chunk with unread bytes (undefined when empty). */
  #head: Uint8Array | undefined;
  /** The chunks behind the head, from `#next` on (made when first needed). */
  #rest: Uint8Array[] | undefined;
  #next = 0;
  /** Offset of the first unread byte within the head chunk. */
  #offset = 0;
  /** Unread bytes in total. */
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#head === undefined) this.#head = chunk;
    else {
      this.#rest ??= [];
      this.#rest.push(chunk);
    }
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
    const first = this.#head as Uint8Array;
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
      const chunk = this.#head as Uint8Array;
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
    if (n <= 0) return EMPTY;
    const first = this.#head as Uint8Array;
    if (n <= first.length - this.#offset) return first.subarray(this.#offset, this.#offset + n);
    // Spanning: the head and some chunks of `#rest` (which then exists).
    const rest = this.#rest as Uint8Array[];
    const out = uninitialised(n);
    let filled = first.length - this.#offset;
    out.set(first.subarray(this.#offset), 0);
    let i = this.#next;
    let tail: Uint8Array | undefined;
    while (filled < n) {
      const chunk = rest[i++] as Uint8Array;
      const k = Math.min(chunk.length, n - filled);
      out.set(k === chunk.length ? chunk : chunk.subarray(0, k), filled);
      filled += k;
      // The last chunk covered in part keeps its unread tail as a chunk of its own.
      if (k < chunk.length) tail = chunk.subarray(k);
    }
    this.#head = out;
    this.#offset = 0;
    if (tail !== undefined) rest[--i] = tail;
    this.#next = i;
    if (i === rest.length) {
      rest.length = 0;
      this.#next = 0;
    }
    return out;
  }

  clear(): void {
    this.#head = undefined;
    this.#rest = undefined;
    this.#next = 0;
    this.#offset = 0;
    this.length = 0;
  }

  #drop(): void {
    this.#offset = 0;
    const rest = this.#rest;
    if (rest === undefined || this.#next === rest.length) {
      this.#head = undefined;
      return;
    }
    this.#head = rest[this.#next++];
    // Compact lazily: shifting on every read would be O(n) per chunk.
    if (this.#next === rest.length) {
      rest.length = 0;
      this.#next = 0;
    } else if (this.#next >= 1024 && this.#next * 2 >= rest.length) {
      this.#rest = rest.slice(this.#next);
      this.#next = 0;
    }
  }
}
