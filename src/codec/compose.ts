/**
 * Combinators without a length prefix: `Option<T>`, tuples and fixed-length arrays `[T; N]`.
 */
import type { CfgOf, Codec, IsNoCfg, NoCfg, ValueOf } from './codec.js';
import { CodecError } from './errors.js';

/**
 * `Option<T>`: a bool tag (`0x00` absent, `0x01` present) then the value if present. `undefined`
 * stands for `None`; the inner decoder receives the same `cfg`. Tag bytes above 1 are
 * `InvalidBool`.
 */
export function option<T, C>(inner: Codec<T, C>): Codec<T | undefined, C> {
  return {
    encodeSize: (v) => (v === undefined ? 1 : 1 + inner.encodeSize(v)),
    write: (v, w) => {
      if (v === undefined) {
        w.u8(0);
      } else {
        w.u8(1);
        inner.write(v, w);
      }
    },
    read: (r, cfg) => {
      const tag = r.u8();
      if (tag === 0) return undefined;
      if (tag !== 1) throw new CodecError('InvalidBool', `option tag 0x${tag.toString(16)}`);
      return inner.read(r, cfg);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of codecs needs an open element type
type AnyCodec = Codec<any, any>;

/** The config of a tuple: `void` if no element needs one, else a tuple of element configs. */
export type TupleCfg<Cs extends readonly AnyCodec[]> =
  IsNoCfg<CfgOf<Cs[number]>> extends true ? NoCfg : { readonly [K in keyof Cs]: CfgOf<Cs[K]> };

/** The value of a tuple codec. */
export type TupleValue<Cs extends readonly AnyCodec[]> = {
  -readonly [K in keyof Cs]: ValueOf<Cs[K]>;
};

/**
 * A tuple `(A, B, ...)`: the elements' encodings concatenated, no prefix. The config is `void`
 * when no element needs one, else a tuple with one config per element (in order).
 *
 * @example `tuple(u8, varU64, fixedBytes(32))` is a `Codec<[number, bigint, Uint8Array]>`.
 */
export function tuple<const Cs extends readonly AnyCodec[]>(
  ...codecs: Cs
): Codec<TupleValue<Cs>, TupleCfg<Cs>> {
  return {
    encodeSize: (v) => {
      let n = 0;
      for (let i = 0; i < codecs.length; i++) n += codecs[i]!.encodeSize(v[i]);
      return n;
    },
    write: (v, w) => {
      if (v.length !== codecs.length) {
        throw new RangeError(`tuple of ${codecs.length} given ${v.length} elements`);
      }
      for (let i = 0; i < codecs.length; i++) codecs[i]!.write(v[i], w);
    },
    read: (r, cfg) => {
      const cfgs = cfg as readonly unknown[] | undefined;
      const out: unknown[] = new Array(codecs.length);
      for (let i = 0; i < codecs.length; i++) out[i] = codecs[i]!.read(r, cfgs?.[i]);
      return out as TupleValue<Cs>;
    },
  };
}

/**
 * `[T; N]`: exactly `n` elements, no prefix. Every element is decoded with the same `cfg`.
 * @throws RangeError on encode if the array does not have exactly `n` elements.
 */
export function array<T, C>(item: Codec<T, C>, n: number): Codec<T[], C> {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid array length ${n}`);
  return {
    encodeSize: (v) => {
      let size = 0;
      for (const x of v) size += item.encodeSize(x);
      return size;
    },
    write: (v, w) => {
      if (v.length !== n) throw new RangeError(`expected ${n} elements, got ${v.length}`);
      for (const x of v) item.write(x, w);
    },
    read: (r, cfg) => {
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r, cfg));
      return out;
    },
  };
}
