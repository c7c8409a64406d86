/** Why an MCS request was refused; each code maps to one HTTP status (McsExceptionFilter). */
export enum McsErrorCode {
  Invalid = 'invalid',
  Duplicate = 'duplicate',
  NotFound = 'not-found',
  Throttled = 'throttled',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
}

/** A request the MCS API refuses, with the `details` text the master application receives. */
export class McsRequestError extends Error {
  constructor(
    readonly code: McsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'McsRequestError';
  }

  static invalid(details: string): McsRequestError {
    return new McsRequestError(McsErrorCode.Invalid, details);
  }
}

export function httpStatusOf(code: McsErrorCode): number {
  switch (code) {
    case McsErrorCode.Invalid:
    case McsErrorCode.Duplicate:
      return 400;
    case McsErrorCode.Unauthorized:
      return 401;
    case McsErrorCode.Forbidden:
      return 403;
    case McsErrorCode.NotFound:
      return 404;
    case McsErrorCode.Throttled:
      return 429;
  }
}

/** A collection that cannot be carried out for this request (reported as "ERROR: …", never retried). */
export class McsCollectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'McsCollectionError';
  }
}
