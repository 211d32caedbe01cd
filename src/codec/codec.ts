import { CodecError, toCodecError } from './errors.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** The encoding half of a {@link Codec}: sizes a value exactly, then writes it. */
export interface Encoder<T> {
  /** The exact number of bytes {@link Encoder.write} will produce for `v`. */
  encodeSize(v: T): number;
  /** Writes `v`. Throws `RangeError`/`TypeError` if `v` is not encodable (programmer error). */
  write(v: T, w: Writer): void;
}

/** The decoding half of a {@link Codec}: reads one value, bounded by `cfg`. */
export interface Decoder<T, Cfg = void> {
  /**
   * Reads one value from `r`, consuming exactly its bytes. Throws only `CodecError`.
   * `cfg` carries the limits (lengths, counts) that make decoding untrusted bytes safe.
   */
  read(r: Reader, cfg: Cfg): T;
}

/**
 * A wire format for values of type `T`, decoded under a configuration `Cfg` of limits
 * (commonware `Write + EncodeSize + Read<Cfg = ..>`).
 */
export interface Codec<T, Cfg = void> extends Encoder<T>, Decoder<T, Cfg> {}

/** The value type of a codec. */
export type ValueOf<C> = C extends Decoder<infer T, infer _> ? T : never;

/** The config type of a codec. */
export type CfgOf<C> = C extends Decoder<infer _, infer Cfg> ? Cfg : never;

/**
 * The config type of codecs that need none. Being `void`, it lets `read(r)` and `decode(c, b)`
 * omit the argument.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: `void` is the deliberate "no config" marker
export type NoCfg = void;

/** `true` if `Cfg` is {@link NoCfg}. */
export type IsNoCfg<Cfg> = [Cfg] extends [NoCfg] ? true : false;

/** The trailing `cfg` argument: omitted when the config type is `void`, required otherwise. */
export type CfgArgs<Cfg> = IsNoCfg<Cfg> extends true ? [cfg?: Cfg] : [cfg: Cfg];

/**
 * Encodes `v` into a freshly allocated buffer of exactly `codec.encodeSize(v)` bytes.
 *
 * @throws RangeError if the codec writes more or fewer bytes than it declared (a codec bug), or
 *   if `v` is out of range for its type.
 */
export function encode<T>(codec: Encoder<T>, v: T): Uint8Array {
  const size = codec.encodeSize(v);
  const w = new Writer(size);
  codec.write(v, w);
  if (w.offset !== size) {
    throw new RangeError(`codec wrote ${w.offset} bytes but encodeSize declared ${size}`);
  }
  return w.finish();
}

/**
 * Decodes exactly one value that spans all of `bytes`.
 *
 * @throws CodecError - `ExtraData` if bytes remain after the value; any other decode failure.
 *   Nothing else: a non-codec error from a caller-supplied decoder is wrapped as `Wrapped`.
 */
export function decode<T, Cfg>(
  codec: Decoder<T, Cfg>,
  bytes: Uint8Array,
  ...[cfg]: CfgArgs<Cfg>
): T {
  const r = new Reader(bytes);
  let v: T;
  try {
    v = codec.read(r, cfg as Cfg);
  } catch (err) {
    throw toCodecError(err);
  }
  if (r.remaining !== 0) {
    throw new CodecError('ExtraData', `${r.remaining} bytes left over after decoding`);
  }
  return v;
}
