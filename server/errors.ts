/**
 * Errors that services raise and the HTTP layer renders. Messages are
 * dictionary keys (with parameters), not sentences, so each user reads them
 * in their own language; `status` is the HTTP status to answer with.
 */
export type MessageParams = Record<string, string | number>;

export interface FieldError {
  key: string;
  params?: MessageParams;
}

export class AppError extends Error {
  readonly status: number;
  /** Safe to show to the user (all AppErrors are; unexpected errors are not). */
  readonly expose = true;
  readonly key: string;
  readonly params: MessageParams;

  constructor(status: number, key: string, params: MessageParams = {}) {
    super(key);
    this.status = status;
    this.key = key;
    this.params = params;
  }
}

/** Bad input: each field's problem, shown next to the field. */
export class ValidationError extends AppError {
  constructor(readonly fields: Record<string, FieldError>, key = 'error.validation') {
    super(422, key);
  }
}

export class ForbiddenError extends AppError {
  constructor(key = 'error.forbidden', params: MessageParams = {}) {
    super(403, key, params);
  }
}

export class NotFoundError extends AppError {
  constructor(key = 'error.not_found', params: MessageParams = {}) {
    super(404, key, params);
  }
}

export class ConflictError extends AppError {
  constructor(key: string, params: MessageParams = {}) {
    super(409, key, params);
  }
}

/** Too many attempts; `minutes` says when to try again. */
export class TooManyRequestsError extends AppError {
  constructor(key: string, readonly minutes: number) {
    super(429, key, { minutes });
  }
}
