/**
 * Reusable buffers for large encrypted frames that arrive split across socket reads.
 *
 * A 64 KiB message is a 65,555-byte frame, and Node reads a socket 64 KiB at a time, so nearly
 * every such frame spans two reads and the runtime must copy it into one buffer before it can be
 * opened. Opening copies the plaintext out (OpenSSL and libsodium write it into a buffer of its
 * own), so that copy of the ciphertext is dead the moment `open` returns: instead of a fresh
 * 64 KiB allocation per frame (native memory that drives full GCs at hundreds of MB/s), the
 * receiver lends the runtime a buffer from this pool and takes it back after opening.
 *
 * Ownership is provable: a buffer is lent by {@link borrowFrame} to one receiver, which hands it
 * to the runtime as the `scratch` of one `recv`; the runtime fills it just before resolving, the
 * receiver opens the frame in the same reaction and returns it with {@link returnFrame}. No
 * plaintext is ever written into a pooled buffer, and nothing else keeps a reference.
 *
 * Bounded: buffers come in power-of-two classes from {@link MIN_CLASS_BYTES} to
 * {@link MAX_CLASS_BYTES}; at most {@link FREE_PER_CLASS} idle buffers per class are kept. A
 * frame over the largest class gets a buffer of its own, never pooled. Process-wide rather than
 * per connection, so an idle connection holds nothing.
 *
 * @module
 */

import { allocOwned } from '../crypto/backend.js';

/** The smallest class: frames below it are cheap to allocate (and rarely span reads). */
export const MIN_CLASS_BYTES = 32 * 1024;
/** The largest class; larger frames are not pooled. */
export const MAX_CLASS_BYTES = 1024 * 1024;
/** Idle buffers kept per class (worst case idle: 2 x (32 KiB + ... + 1 MiB) < 4 MiB). */
export const FREE_PER_CLASS = 2;

const MIN_SHIFT = Math.log2(MIN_CLASS_BYTES);
const MAX_SHIFT = Math.log2(MAX_CLASS_BYTES);

/** Idle buffers, by class (index: log2 of the size). */
const free: Uint8Array[][] = Array.from({ length: MAX_SHIFT + 1 }, () => []);

/** The class of a frame of `n` bytes: log2 of the smallest class holding it, -1 when too large. */
function classOf(n: number): number {
  if (n > MAX_CLASS_BYTES) return -1;
  const shift = n <= 1 ? 0 : 32 - Math.clz32(n - 1);
  return Math.max(shift, MIN_SHIFT);
}

/**
 * A buffer of at least `n` bytes for one frame, uninitialised (the runtime overwrites the part
 * it uses). Give it back with {@link returnFrame} once nothing refers to it any more.
 */
export function borrowFrame(n: number): Uint8Array {
  const shift = classOf(n);
  if (shift < 0) return allocOwned(n);
  return free[shift]!.pop() ?? allocOwned(2 ** shift);
}

/**
 * Takes back a buffer from {@link borrowFrame} (the whole buffer, not a view of part of it). The
 * caller must hold no reference to it, nor to any view of it, afterwards.
 */
export function returnFrame(buffer: Uint8Array): void {
  const n = buffer.length;
  const shift = classOf(n);
  if (shift < 0 || 2 ** shift !== n) return;
  const list = free[shift]!;
  if (list.length < FREE_PER_CLASS) list.push(buffer);
}

/** @internal Idle buffers in the pool, by size (for tests). */
export function idleFrames(): number[] {
  return free.flatMap((list) => list.map((b) => b.length));
}
