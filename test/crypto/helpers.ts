import { readFileSync } from 'node:fs';

/** Reads `test/vectors/<name>` (works from build/ and build-<area>/ alike: both sit at the repo root). */
export function vectors<T>(name: string): T {
  const url = new URL(`../../../test/vectors/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

/** Hex to bytes. */
export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Bytes to hex. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** UTF-8 bytes. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
