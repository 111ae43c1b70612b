/**
 * MongoDB server errors as the driver expects them: a numeric `code`, its
 * `codeName`, and optional `errorLabels`. The driver turns `{ok: 0, ...}`
 * replies into `MongoServerError`, and Mongoose and the app branch on `code`
 * (11000 for duplicates, 112 for write conflicts), so codes must match
 * MongoDB's own catalogue (src/mongo/base/error_codes.yml).
 */

/** The subset of MongoDB's error-code catalogue the embedded store raises. */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  TypeMismatch: 14,
  IllegalOperation: 20,
  EmptyArrayOperation: 21,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  NotSingleValueField: 54,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  WriteConflict: 112,
  CommandNotSupported: 115,
  ConflictingOperationInProgress: 117,
  CannotIndexParallelArrays: 171,
  InvalidPipelineOperator: 168,
  CommandFailed: 125,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  TransactionTooLarge: 257,
  OperationNotSupportedInTransaction: 263,
  TransactionTooOld: 225,
  NotImplemented: 238,
  DuplicateKey: 11000,
  BSONObjectTooLarge: 10334,
  MaxTimeMSExpired: 50,
  Unauthorized: 13,
  LockTimeout: 24,
  ExceededMemoryLimit: 146,
  InvalidLength: 16,
  Overflow: 15,
  ProtocolError: 17,
} as const;

const codeNames = new Map<number, string>();
for (const [name, code] of Object.entries(ErrorCodes)) {
  // First name wins, so aliases added later in the table do not rename a code.
  if (!codeNames.has(code)) codeNames.set(code, name);
}

/** The codeName MongoDB reports for a numeric code ("Location<n>" when it has none). */
export function codeName(code: number): string {
  return codeNames.get(code) ?? `Location${code}`;
}

/** An error that becomes an `{ok: 0}` reply (or a write error) on the wire. */
export class MongoError extends Error {
  readonly code: number;
  readonly codeName: string;
  errorLabels: string[];
  /** Extra fields copied into the reply (keyPattern/keyValue for 11000). */
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}, labels: string[] = []) {
    super(message);
    this.code = code;
    this.codeName = codeName(code);
    this.errorLabels = labels;
    this.extra = extra;
  }

  /** The reply document for a failed command. */
  toReply(): Record<string, unknown> {
    const reply: Record<string, unknown> = { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName };
    if (this.errorLabels.length) reply.errorLabels = this.errorLabels;
    return { ...reply, ...this.extra };
  }

  /** The entry for `writeErrors[]` in an insert/update/delete reply. */
  toWriteError(index: number): Record<string, unknown> {
    return { index, code: this.code, codeName: this.codeName, errmsg: this.message, ...this.extra };
  }
}

/** Shorthand for the commonest failure: a malformed argument. */
export function badValue(message: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, message);
}

/** A feature the embedded store deliberately does not implement. */
export function notSupported(feature: string): MongoError {
  return new MongoError(
    ErrorCodes.NotImplemented,
    `${feature} is not supported by the embedded store; set MONGODB_URI to use a MongoDB server`,
  );
}
