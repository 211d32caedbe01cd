/**
 * Edwards25519 point-decoding check, matching curve25519-dalek's `CompressedEdwardsY::decompress`
 * (which commonware's ed25519 public-key decoding uses): the encoding is accepted iff
 * x^2 = (y^2 - 1) / (d*y^2 + 1) has a solution, where y is the low 255 bits read little-endian
 * and reduced mod p (non-canonical y is accepted, as dalek does; the sign bit is not checked
 * against x = 0, as dalek does). OpenSSL does not validate points on import, hence this check.
 *
 * Cost: one exponentiation of 254 squarings in BigInt (~55 us), so callers cache results.
 *
 * @internal
 */

const P = (1n << 255n) - 19n;
const MASK = (1n << 255n) - 1n;

/** Reduction mod 2^255 - 19 using 2^255 = 19 (mod p); valid for x < 2^512. */
function red(x: bigint): bigint {
  x = (x & MASK) + 19n * (x >> 255n);
  x = (x & MASK) + 19n * (x >> 255n);
  return x >= P ? x - P : x;
}

function sqrn(x: bigint, n: number): bigint {
  for (let i = 0; i < n; i++) x = red(x * x);
  return x;
}

/** x^((p-1)/2) = x^(2^254 - 10): 1 for non-zero squares, p-1 for non-squares, 0 for 0. */
function legendre(x: bigint): bigint {
  // The ref10 addition chain for x^(2^250 - 1), then (2^250 - 1) * 2^4 + 6.
  const x2 = red(x * x);
  const x9 = red(sqrn(x2, 2) * x);
  const x11 = red(x9 * x2);
  const x5_0 = red(red(x11 * x11) * x9);
  const x10_0 = red(sqrn(x5_0, 5) * x5_0);
  const x20_0 = red(sqrn(x10_0, 10) * x10_0);
  const x40_0 = red(sqrn(x20_0, 20) * x20_0);
  const x50_0 = red(sqrn(x40_0, 10) * x10_0);
  const x100_0 = red(sqrn(x50_0, 50) * x50_0);
  const x200_0 = red(sqrn(x100_0, 100) * x100_0);
  const x250_0 = red(sqrn(x200_0, 50) * x50_0);
  const x6 = red(red(x2 * x2) * x2);
  return red(sqrn(x250_0, 4) * x6);
}

// d = -121665 / 121666 mod p (RFC 8032 section 5.1).
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;

/** True iff the 32 bytes decode to a point on edwards25519 under dalek's rules. */
export function isValidPoint(bytes: Uint8Array): boolean {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]!);
  y = red(y & MASK);
  const yy = red(y * y);
  const u = yy === 0n ? P - 1n : yy - 1n; // y^2 - 1 mod p
  const v = red(D * yy + 1n); // never 0: -1/d is not a square
  if (u === 0n) return true; // y = +-1: x = 0
  // u/v is a square iff u*v is (v^-1 and v have the same quadratic character).
  return legendre(red(u * v)) === 1n;
}
