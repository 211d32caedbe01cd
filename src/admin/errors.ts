/**
 * The admin endpoint's error class.
 *
 * @module
 */

/** What went wrong when starting an admin endpoint. */
export type AdminErrorCode =
  /** A bad option: an unparsable `listen`, a bad token, a bound out of range. */
  | 'InvalidConfig'
  /** `listen` is not a loopback address and no `token` was given. */
  | 'TokenRequired'
  /** The address could not be bound (in use, not local); `cause` is the OS error. */
  | 'ListenFailed';

/** An admin endpoint could not start. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code: AdminErrorCode;
  constructor(code: AdminErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? code, options);
    this.code = code;
  }
}
