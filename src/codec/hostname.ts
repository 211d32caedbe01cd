/**
 * DNS host names (commonware `utils::Hostname`, RFC 1035/1123 syntax).
 *
 * Wire form: a `usize` length (at most 253) then the ASCII bytes. Decoding checks the length
 * first (`InvalidLength`), then the syntax (`Invalid`, context `'Hostname'`). Case is preserved.
 */
import type { Codec } from './codec.js';
import { CodecError } from './errors.js';
import { lengthSize, readLength, writeLength } from './range.js';

/** Maximum length of a hostname in characters (RFC 1035 text form). */
export const MAX_HOSTNAME_LEN = 253;
/** Maximum length of one label. */
export const MAX_HOSTNAME_LABEL_LEN = 63;

function isLabelChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d
  );
}

// Shared by the string and byte checks: `at(i)` is the i-th character code.
function validate(len: number, at: (i: number) => number): boolean {
  if (len < 1 || len > MAX_HOSTNAME_LEN) return false;
  let labelStart = 0;
  for (let i = 0; i <= len; i++) {
    if (i < len && at(i) !== 0x2e) {
      if (!isLabelChar(at(i))) return false;
      continue;
    }
    // End of a label: [labelStart, i).
    const labelLen = i - labelStart;
    if (labelLen < 1 || labelLen > MAX_HOSTNAME_LABEL_LEN) return false;
    if (at(labelStart) === 0x2d || at(i - 1) === 0x2d) return false;
    labelStart = i + 1;
  }
  return true;
}

/**
 * Whether `s` is a valid hostname: 1-253 characters; dot-separated labels of 1-63 characters
 * from `[A-Za-z0-9-]`, none starting or ending with `-`; no empty label (so no leading,
 * trailing or doubled dot).
 */
export function isValidHostname(s: string): boolean {
  return validate(s.length, (i) => s.charCodeAt(i));
}

/** `Hostname`: `usize` length (<= 253) then ASCII; validated on decode and on encode. */
export const hostname: Codec<string> = {
  encodeSize: (v) => lengthSize(v.length) + v.length,
  write: (v, w) => {
    if (!isValidHostname(v)) throw new TypeError(`invalid hostname: ${JSON.stringify(v)}`);
    writeLength(v.length, w);
    const off = w.claim(v.length);
    const out = w.storage;
    for (let i = 0; i < v.length; i++) out[off + i] = v.charCodeAt(i);
  },
  read: (r) => {
    const n = readLength(r, { max: MAX_HOSTNAME_LEN }, 'Hostname');
    const b = r.readBytes(n);
    if (!validate(n, (i) => b[i]!)) {
      throw new CodecError('Invalid', 'Hostname: invalid hostname', { context: 'Hostname' });
    }
    // Validated bytes are ASCII, so this is exact.
    return String.fromCharCode(...b);
  },
};
