/** The closed set of runtime failure codes. */
export type RuntimeErrorCode =
  /** The deterministic runtime found nothing runnable while tasks were still waiting. */
  | 'Stalled'
  /** A spawned task failed with an unexpected error (the cause holds it). */
  | 'TaskFailed'
  /** The root function returned (or failed): the reason remaining tasks are aborted with. */
  | 'Shutdown'
  /** Nothing listens at the dialed address. */
  | 'ConnectionRefused'
  /** A dial failed for another reason (the cause holds the OS error). */
  | 'DialFailed'
  /** The address is already bound. */
  | 'AddressInUse'
  /** A bind failed for another reason (the cause holds the OS error). */
  | 'BindFailed'
  /** The listener was closed. */
  | 'ListenerClosed'
  /** A host name could not be resolved. */
  | 'ResolveFailed'
  /** The connection was closed (locally, or by the peer once its bytes were read). */
  | 'Closed'
  /** The connection failed (reset by the peer or a socket error). */
  | 'Reset'
  /** No byte arrived within the read timeout. */
  | 'ReadTimeout'
  /** Written bytes were not accepted within the write timeout. */
  | 'WriteTimeout'
  /** An operation did not complete in time (see `withTimeout`). */
  | 'Timeout';

/** The error thrown by the runtime: a closed `code` union, the wrapped failure in `cause`. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message?: string, options?: ErrorOptions) {
    super(message ?? code, options);
    this.code = code;
  }
}
