/**
 * The wire codec: how every value authp2p sends is turned into bytes and back (a port of
 * `commonware-codec` plus the `Hostname` and `BitMap` encodings from `commonware-utils`).
 *
 * # Design
 *
 * A {@link Codec} is a plain object with three functions: `encodeSize(v)` (the exact byte count),
 * `write(v, w)` and `read(r, cfg)`. Codecs compose by functions ({@link list}, {@link option},
 * {@link tuple}, {@link orderedMap} ...), never by classes or registration. {@link encode}
 * sizes first and allocates once; {@link decode} reads one value and insists the input is
 * exhausted. Integers are big-endian, lengths are canonical u32 varints, and every
 * collection is either fixed-size or length-prefixed, so the format is self-delimiting and
 * every value has exactly one encoding (important where encodings are signed).
 *
 * # Security
 *
 * Every byte a decoder sees may come from an adversary:
 * - decoders take explicit limits (`cfg`) for every variable-size value and check a decoded
 *   length against them before allocating, so a 5-byte prefix cannot demand 4 GiB;
 * - reads are bounds-checked; truncated input is `EndOfBuffer`;
 * - non-canonical varints, unknown tags, out-of-order map keys and stray bitmap bits are
 *   rejected, so an encoding cannot be malleated without changing its meaning;
 * - the only error a decoder throws is {@link CodecError} (a caller-supplied decoder that throws
 *   anything else is wrapped by {@link decode} as `Wrapped`).
 *
 * Decoded byte strings are views into the input buffer (no copy).
 *
 * @example
 * ```ts
 * import { decode, encode, list, socketAddr } from 'authp2p/codec';
 * const peers = list(socketAddr);
 * const bytes = encode(peers, [{ ip: '127.0.0.1', port: 8080 }]);
 * // 01 04 7f 00 00 01 1f 90
 * const back = decode(peers, bytes, { range: { max: 32 } });
 * ```
 *
 * @module authp2p/codec
 */
export { BitMap, type BitMapCfg, bitMap } from './bitmap.js';
export { bytes, fixedBytes } from './bytes.js';
export {
  type CfgArgs,
  type CfgOf,
  type Codec,
  type Decoder,
  decode,
  type Encoder,
  encode,
  type IsNoCfg,
  type NoCfg,
  type ValueOf,
} from './codec.js';
export { array, option, type TupleCfg, type TupleValue, tuple } from './compose.js';
export { CodecError, type CodecErrorCode, type CodecErrorOptions, toCodecError } from './errors.js';
export { hostname, isValidHostname, MAX_HOSTNAME_LABEL_LEN, MAX_HOSTNAME_LEN } from './hostname.js';
export {
  canonicalIp,
  formatIpv4,
  formatIpv6,
  type ParsedIp,
  parseIp,
  parseIpv4,
  parseIpv6,
} from './ip.js';
export { type ItemCfg, type ListCfg, list } from './list.js';
export {
  type Comparator,
  compareBytes,
  type KeyCfg,
  type MapCfg,
  orderedMap,
  orderedSet,
  type SetCfg,
  type ValueCfg,
} from './map.js';
export { IP_TAG_V4, IP_TAG_V6, ipAddr, ipv4, ipv6, socketAddr } from './net.js';
export {
  bool,
  f32,
  f64,
  i8,
  i16,
  i32,
  i64,
  i128,
  u8,
  u16,
  u32,
  u64,
  u64Number,
  u128,
} from './primitives.js';
export {
  checkLength,
  lengthSize,
  MAX_USIZE,
  type RangeCfg,
  readLength,
  usize,
  writeLength,
} from './range.js';
export { Reader } from './reader.js';
export {
  peekVarintU32,
  readVarUint,
  readVarUint64,
  readVarUint64Number,
  varI16,
  varI32,
  varI64,
  varI128,
  varintSize,
  varintU32Size,
  varU16,
  varU32,
  varU64,
  varU64Number,
  varU128,
  writeVarintU32,
  writeVarUint32,
  writeVarUint64,
} from './varint.js';
export { Writer } from './writer.js';
