import { isDatabaseUnavailable } from './database-unavailable';

/** A device driver's error as the drivers make it (libs/drivers: DriverError), with its socket error as cause. */
class DriverError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

describe('isDatabaseUnavailable', () => {
  it("takes node-postgres's and the socket's words for a database that cannot be reached", () => {
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(
      isDatabaseUnavailable({ driverError: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
    ).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('value too long'), { code: '22001' }))).toBe(false);
  });

  it("does not look into a device driver's error: a gateway refusing connections is not the database", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(new DriverError('GET /about: connection refused', refused))).toBe(false);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: new DriverError('reset', refused) }))).toBe(
      false,
    );
  });
});
