/**
 * Ordered maps and sets (commonware `BTreeMap`/`BTreeSet`/`HashMap`/`HashSet`): a `usize` count
 * then the entries in strictly ascending key order.
 *
 * Order makes the encoding unique (one map, one byte string), which matters wherever encodings
 * are signed or hashed. The order is either a caller-supplied comparator over decoded keys, or,
 * by default, the lexicographic order of the keys' encodings (for fixed-width big-endian integers
 * and fixed-size byte arrays that equals the natural order). Decoding rejects a key that is not
 * strictly greater than the one before it (out of order or duplicate) with `Invalid`.
 */
import { type Codec, encode, type IsNoCfg } from './codec.js';
import { CodecError } from './errors.js';
import { lengthSize, type RangeCfg, readLength, writeLength } from './range.js';
import type { Reader } from './reader.js';

/** Orders two keys: negative if `a < b`, zero if equal, positive if `a > b`. */
export type Comparator<K> = (a: K, b: K) => number;

/** Lexicographic byte order; a proper prefix sorts first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Key config slot: absent when the key codec needs none. */
export type KeyCfg<C> =
  IsNoCfg<C> extends true ? { readonly key?: undefined } : { readonly key: C };
/** Value config slot: absent when the value codec needs none. */
export type ValueCfg<C> =
  IsNoCfg<C> extends true ? { readonly value?: undefined } : { readonly value: C };

/** Config for {@link orderedMap}: the accepted entry-count range plus key/value configs. */
export type MapCfg<KC, VC> = { readonly range: RangeCfg } & KeyCfg<KC> & ValueCfg<VC>;
/** Config for {@link orderedSet}: the accepted count range plus the key config. */
export type SetCfg<KC> = { readonly range: RangeCfg } & KeyCfg<KC>;

// Sorts keys for encoding and returns, per sorted position, the original key and (byte order
// only) its encoding. Equal neighbours mean the caller's collection holds two keys that encode
// identically, which the decoder would reject, so encoding refuses them up front.
function sortKeys<K>(
  keys: Iterable<K>,
  codec: Codec<K, unknown>,
  compare: Comparator<K> | undefined,
): { key: K; enc: Uint8Array | undefined }[] {
  const items = Array.from(keys, (key) => ({
    key,
    enc: compare === undefined ? encode(codec, key) : undefined,
  }));
  const cmp = (a: (typeof items)[number], b: (typeof items)[number]): number =>
    compare === undefined ? compareBytes(a.enc!, b.enc!) : compare(a.key, b.key);
  items.sort(cmp);
  for (let i = 1; i < items.length; i++) {
    if (cmp(items[i - 1]!, items[i]!) === 0) throw new RangeError('duplicate key in ordered map');
  }
  return items;
}

// Reads one key and enforces strict ascending order against the previous one.
function readOrderedKey<K>(
  r: Reader,
  codec: Codec<K, unknown>,
  cfg: unknown,
  compare: Comparator<K> | undefined,
  prev: { key: K; enc: Uint8Array } | undefined,
  context: string,
): { key: K; enc: Uint8Array } {
  const start = r.offset;
  const key = codec.read(r, cfg);
  const enc = r.bytesSince(start);
  if (prev !== undefined) {
    const c = compare === undefined ? compareBytes(prev.enc, enc) : compare(prev.key, key);
    if (c >= 0) {
      const why = c === 0 ? 'duplicate key' : 'keys out of order';
      throw new CodecError('Invalid', `${context}: ${why}`, { context });
    }
  }
  return { key, enc };
}

/**
 * A map encoded as a `usize` entry count then `key, value` pairs in ascending key order.
 *
 * @param compare - key order; default: byte order of the encoded keys.
 * @throws RangeError on encode if two keys compare equal.
 */
export function orderedMap<K, V, KC, VC>(
  key: Codec<K, KC>,
  value: Codec<V, VC>,
  compare?: Comparator<K>,
): Codec<Map<K, V>, MapCfg<KC, VC>> {
  return {
    encodeSize: (m) => {
      let size = lengthSize(m.size);
      for (const [k, v] of m) size += key.encodeSize(k) + value.encodeSize(v);
      return size;
    },
    write: (m, w) => {
      writeLength(m.size, w);
      for (const item of sortKeys(m.keys(), key as Codec<K, unknown>, compare)) {
        if (item.enc === undefined) key.write(item.key, w);
        else w.bytes(item.enc);
        value.write(m.get(item.key) as V, w);
      }
    },
    read: (r, cfg) => {
      const n = readLength(r, cfg.range, 'OrderedMap');
      const out = new Map<K, V>();
      let prev: { key: K; enc: Uint8Array } | undefined;
      for (let i = 0; i < n; i++) {
        prev = readOrderedKey(r, key as Codec<K, unknown>, cfg.key, compare, prev, 'OrderedMap');
        out.set(prev.key, value.read(r, cfg.value as VC));
      }
      return out;
    },
  };
}

/**
 * A set encoded as a `usize` count then the keys in ascending order.
 *
 * @param compare - key order; default: byte order of the encoded keys.
 * @throws RangeError on encode if two keys compare equal.
 */
export function orderedSet<K, KC>(
  key: Codec<K, KC>,
  compare?: Comparator<K>,
): Codec<Set<K>, SetCfg<KC>> {
  return {
    encodeSize: (s) => {
      let size = lengthSize(s.size);
      for (const k of s) size += key.encodeSize(k);
      return size;
    },
    write: (s, w) => {
      writeLength(s.size, w);
      for (const item of sortKeys(s, key as Codec<K, unknown>, compare)) {
        if (item.enc === undefined) key.write(item.key, w);
        else w.bytes(item.enc);
      }
    },
    read: (r, cfg) => {
      const n = readLength(r, cfg.range, 'OrderedSet');
      const out = new Set<K>();
      let prev: { key: K; enc: Uint8Array } | undefined;
      for (let i = 0; i < n; i++) {
        prev = readOrderedKey(r, key as Codec<K, unknown>, cfg.key, compare, prev, 'OrderedSet');
        out.add(prev.key);
      }
      return out;
    },
  };
}
