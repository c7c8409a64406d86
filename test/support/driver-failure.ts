import { DriverError } from '@hes/drivers';

/** The DriverError a driver operation rejected with; anything else (or no failure) fails the test. */
export async function driverFailure(promise: Promise<unknown>): Promise<DriverError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DriverError) return error;
    throw error;
  }
  throw new Error('expected the operation to fail');
}
