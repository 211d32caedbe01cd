import fc from 'fast-check';
import {
  array,
  BitMap,
  bitMap,
  bool,
  bytes,
  type Codec,
  f32,
  f64,
  fixedBytes,
  formatIpv4,
  formatIpv6,
  hostname,
  i8,
  i16,
  i32,
  i64,
  i128,
  ipAddr,
  ipv4,
  ipv6,
  list,
  option,
  orderedMap,
  orderedSet,
  socketAddr,
  tuple,
  u8,
  u16,
  u32,
  u64,
  u64Number,
  u128,
  usize,
  varI16,
  varI32,
  varI64,
  varI128,
  varU16,
  varU32,
  varU64,
  varU64Number,
  varU128,
} from '../../src/codec/index.js';

/** One codec under test: how to generate values, the decode config, and how to compare. */
export interface Case {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: a heterogeneous table of codecs
  readonly codec: Codec<any, any>;
  readonly cfg: unknown;
  readonly arb: fc.Arbitrary<unknown>;
  /** Maps a value to something `assert.deepStrictEqual` can compare (default: identity). */
  readonly view?: (v: unknown) => unknown;
}

const big = (bits: number, signed: boolean): fc.Arbitrary<bigint> =>
  signed
    ? fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n })
    : fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });

const label = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9]$/),
    fc.stringMatching(/^[A-Za-z0-9-]{0,61}$/),
    fc.stringMatching(/^[A-Za-z0-9]$/),
  )
  .map(([a, mid, z]) => (mid.length === 0 ? a : a + mid + z));

/** Valid hostnames up to 253 characters. */
export const hostnameArb = fc
  .array(label, { minLength: 1, maxLength: 5 })
  .map((ls) => ls.join('.'))
  .filter((s) => s.length <= 253);

const ipv4Arb = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIpv4);
const ipv6Arb = fc
  .oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => {
      const out = new Uint8Array(16);
      out[10] = 0xff;
      out[11] = 0xff;
      out.set(b, 12);
      return out;
    }),
    fc
      .uint8Array({ minLength: 16, maxLength: 16 })
      .map((b) => b.map((x, i) => (i % 4 < 2 ? 0 : x))),
  )
  .map(formatIpv6);
const ipArb = fc.oneof(ipv4Arb, ipv6Arb);
const byNumber = (a: number, b: number): number => a - b;
const bitmapView = (v: unknown): unknown => (v as BitMap).toBools();

/** Every codec the module exports, with a generator of valid values and a decode config. */
export const cases: Case[] = [
  { name: 'bool', codec: bool, cfg: undefined, arb: fc.boolean() },
  { name: 'u8', codec: u8, cfg: undefined, arb: fc.integer({ min: 0, max: 0xff }) },
  { name: 'u16', codec: u16, cfg: undefined, arb: fc.integer({ min: 0, max: 0xffff }) },
  { name: 'u32', codec: u32, cfg: undefined, arb: fc.integer({ min: 0, max: 0xffffffff }) },
  { name: 'u64', codec: u64, cfg: undefined, arb: big(64, false) },
  { name: 'u64Number', codec: u64Number, cfg: undefined, arb: fc.maxSafeNat() },
  { name: 'u128', codec: u128, cfg: undefined, arb: big(128, false) },
  { name: 'i8', codec: i8, cfg: undefined, arb: fc.integer({ min: -128, max: 127 }) },
  { name: 'i16', codec: i16, cfg: undefined, arb: fc.integer({ min: -32768, max: 32767 }) },
  { name: 'i32', codec: i32, cfg: undefined, arb: fc.integer() },
  { name: 'i64', codec: i64, cfg: undefined, arb: big(64, true) },
  { name: 'i128', codec: i128, cfg: undefined, arb: big(128, true) },
  { name: 'f32', codec: f32, cfg: undefined, arb: fc.float() },
  { name: 'f64', codec: f64, cfg: undefined, arb: fc.double() },
  { name: 'varU16', codec: varU16, cfg: undefined, arb: fc.integer({ min: 0, max: 0xffff }) },
  { name: 'varU32', codec: varU32, cfg: undefined, arb: fc.integer({ min: 0, max: 0xffffffff }) },
  { name: 'varU64', codec: varU64, cfg: undefined, arb: big(64, false) },
  { name: 'varU64Number', codec: varU64Number, cfg: undefined, arb: fc.maxSafeNat() },
  { name: 'varU128', codec: varU128, cfg: undefined, arb: big(128, false) },
  { name: 'varI16', codec: varI16, cfg: undefined, arb: fc.integer({ min: -32768, max: 32767 }) },
  { name: 'varI32', codec: varI32, cfg: undefined, arb: fc.integer() },
  { name: 'varI64', codec: varI64, cfg: undefined, arb: big(64, true) },
  { name: 'varI128', codec: varI128, cfg: undefined, arb: big(128, true) },
  {
    name: 'usize',
    codec: usize,
    cfg: { max: 0xffffffff },
    arb: fc.integer({ min: 0, max: 0xffffffff }),
  },
  { name: 'bytes', codec: bytes, cfg: { max: 64 }, arb: fc.uint8Array({ maxLength: 64 }) },
  {
    name: 'fixedBytes(32)',
    codec: fixedBytes(32),
    cfg: undefined,
    arb: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  },
  {
    name: 'option(varU32)',
    codec: option(varU32),
    cfg: undefined,
    arb: fc.option(fc.nat(), { nil: undefined }),
  },
  {
    name: 'tuple(u8, varU64, bytes)',
    codec: tuple(u8, varU64, bytes),
    cfg: [undefined, undefined, { max: 16 }],
    arb: fc.tuple(
      fc.integer({ min: 0, max: 255 }),
      big(64, false),
      fc.uint8Array({ maxLength: 16 }),
    ),
  },
  {
    name: 'array(u16, 3)',
    codec: array(u16, 3),
    cfg: undefined,
    arb: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 3, maxLength: 3 }),
  },
  {
    name: 'list(varU32)',
    codec: list(varU32),
    cfg: { range: { max: 16 } },
    arb: fc.array(fc.nat(), { maxLength: 16 }),
  },
  {
    name: 'list(bytes)',
    codec: list(bytes),
    cfg: { range: { max: 8 }, item: { max: 8 } },
    arb: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 8 }),
  },
  {
    name: 'orderedMap(u32, bytes)',
    codec: orderedMap(u32, bytes),
    cfg: { range: { max: 8 }, value: { max: 8 } },
    arb: fc
      .array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ maxLength: 8 })), {
        maxLength: 8,
      })
      .map((es) => new Map([...new Map(es)].sort((a, b) => a[0] - b[0]))),
  },
  {
    name: 'orderedSet(varU32, byNumber)',
    codec: orderedSet(varU32, byNumber),
    cfg: { range: { max: 8 } },
    arb: fc.uniqueArray(fc.nat(), { maxLength: 8 }).map((xs) => new Set(xs.sort(byNumber))),
  },
  { name: 'ipv4', codec: ipv4, cfg: undefined, arb: ipv4Arb },
  { name: 'ipv6', codec: ipv6, cfg: undefined, arb: ipv6Arb },
  { name: 'ipAddr', codec: ipAddr, cfg: undefined, arb: ipArb },
  {
    name: 'socketAddr',
    codec: socketAddr,
    cfg: undefined,
    arb: fc
      .record({ ip: ipArb, port: fc.integer({ min: 0, max: 0xffff }) })
      .map((r) => ({ ip: r.ip, port: r.port })),
  },
  { name: 'hostname', codec: hostname, cfg: undefined, arb: hostnameArb },
  {
    name: 'bitMap',
    codec: bitMap,
    cfg: { max: 200 },
    arb: fc.array(fc.boolean(), { maxLength: 200 }).map((bs) => BitMap.fromBools(bs)),
    view: bitmapView,
  },
];
