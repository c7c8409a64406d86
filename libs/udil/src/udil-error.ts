/** A UDIL request that must be answered with status "0" and an HTTP error code. */
export class UdilRequestError extends Error {
  constructor(
    readonly httpStatus: 400 | 401 | 404 | 429,
    message: string,
    readonly transactionid?: string,
  ) {
    super(message);
    this.name = 'UdilRequestError';
  }

  static invalid(field: string, problem: string, transactionid?: string): UdilRequestError {
    return new UdilRequestError(400, `${field}: ${problem}`, transactionid);
  }
}
