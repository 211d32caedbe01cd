/**
 * The single error class of the codec module.
 *
 * Mirrors commonware `codec/src/error.rs`: every decoder failure is a {@link CodecError} with a
 * closed {@link CodecErrorCode}, so a peer actor can catch one class at its boundary and map any
 * malformed input to "kill the connection" without ever seeing a `TypeError` or `RangeError`
 * from a stray bounds bug.
 */

/**
 * Why a decode failed.
 *
 * - `EndOfBuffer`: the input ended before the value did (truncated input).
 * - `ExtraData`: a whole-buffer decode finished with bytes left over.
 * - `InvalidVarint`: a varint is non-canonical, overflows its type, or is too long.
 * - `InvalidUsize`: a decoded integer does not fit the platform integer it must become
 *   (a u64 narrowed to a JS `number` above `Number.MAX_SAFE_INTEGER`).
 * - `InvalidBool`: a bool byte other than 0 or 1.
 * - `InvalidEnum`: an unknown enum/union tag.
 * - `InvalidLength`: a decoded length (or bit count) outside the configured range.
 * - `Invalid`: a value that is well-formed bytes but semantically invalid; `context` names the
 *   type (`'IpAddr'`, `'Hostname'`, `'BitMap'`, `'OrderedMap'` ...).
 * - `Wrapped`: a non-codec error escaped a caller-supplied decoder and was wrapped (see `cause`).
 */
export type CodecErrorCode =
  | 'EndOfBuffer'
  | 'ExtraData'
  | 'InvalidVarint'
  | 'InvalidUsize'
  | 'InvalidBool'
  | 'InvalidEnum'
  | 'InvalidLength'
  | 'Invalid'
  | 'Wrapped';

/** Options for {@link CodecError}: the standard `cause` plus the name of the type that failed. */
export interface CodecErrorOptions extends ErrorOptions {
  /** The type or field being decoded when the error arose (e.g. `'IpAddr'`). */
  readonly context?: string;
}

/** A decode failure. The only error type a decoder in this module ever throws. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
  /** Why the decode failed. */
  readonly code: CodecErrorCode;
  /** The type or field being decoded (set for `Invalid` and `Wrapped`), else `undefined`. */
  readonly context: string | undefined;

  /**
   * @param code - why the decode failed.
   * @param message - human-readable detail; defaults to `code` (prefixed by `context` if set).
   * @param options - `cause` (wrapped error) and `context` (type name).
   */
  constructor(code: CodecErrorCode, message?: string, options?: CodecErrorOptions) {
    const context = options?.context;
    super(message ?? (context === undefined ? code : `${context}: ${code}`), options);
    this.code = code;
    this.context = context;
  }
}

/**
 * Returns `err` if it is a {@link CodecError}, else a `Wrapped` CodecError whose `cause` is `err`.
 * Used at decode boundaries so that a bug in a caller-supplied decoder still surfaces as the
 * one error class peers are prepared to handle.
 */
export function toCodecError(err: unknown, context?: string): CodecError {
  if (err instanceof CodecError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new CodecError('Wrapped', `decoder threw a non-codec error: ${detail}`, {
    cause: err,
    ...(context === undefined ? {} : { context }),
  });
}
