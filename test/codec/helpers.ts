import assert from 'node:assert/strict';
import { CodecError, type CodecErrorCode } from '../../src/codec/index.js';

/** Hex string (spaces allowed) to bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}

/** Bytes to lower-case hex with a space between bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** Asserts that `fn` throws a CodecError with the given code, and returns it. */
export function throwsCodec(fn: () => unknown, code: CodecErrorCode): CodecError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CodecError, `expected CodecError(${code}), got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}
