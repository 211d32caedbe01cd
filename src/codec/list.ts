/**
 * `Vec<T>`: a `usize` count then the elements.
 */
import type { Codec, IsNoCfg } from './codec.js';
import { lengthSize, type RangeCfg, readLength, writeLength } from './range.js';

/**
 * The element config slot of a collection config: absent when the element codec needs none.
 * (`exactOptionalPropertyTypes` makes `item?: undefined` mean "omit it".)
 */
export type ItemCfg<C> =
  IsNoCfg<C> extends true ? { readonly item?: undefined } : { readonly item: C };

/** Config for {@link list}: the accepted count range, and the element config if it needs one. */
export type ListCfg<C> = { readonly range: RangeCfg } & ItemCfg<C>;

/**
 * `Vec<T>`: a `usize` element count then the elements in order.
 *
 * Decoding checks the count against `cfg.range` (`InvalidLength`) first and never preallocates:
 * elements are appended as they are decoded, so a large count with a short input fails with
 * `EndOfBuffer` after reading what is there, with memory proportional to the input.
 */
export function list<T, C>(item: Codec<T, C>): Codec<T[], ListCfg<C>> {
  return {
    encodeSize: (v) => {
      let size = lengthSize(v.length);
      for (const x of v) size += item.encodeSize(x);
      return size;
    },
    write: (v, w) => {
      writeLength(v.length, w);
      for (const x of v) item.write(x, w);
    },
    read: (r, cfg) => {
      const n = readLength(r, cfg.range, 'list');
      const itemCfg = cfg.item as C;
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(item.read(r, itemCfg));
      return out;
    },
  };
}
