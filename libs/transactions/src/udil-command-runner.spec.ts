import { resendClockDrift } from './udil-command-runner';

describe('resendClockDrift', () => {
  const sentAt = Date.UTC(2026, 10, 30, 12, 0, 0, 950);

  it('sees no drift in a clock just set in whole seconds and read back in whole seconds under load', () => {
    // Set 0.95 s behind (the set time was truncated to the second), read 0.4 s after sending (truncated
    // again), answer received 1.2 s after sending: 2.15 s from the time after the answer, yet in step.
    const meterClock = new Date(Date.UTC(2026, 10, 30, 12, 0, 0, 0));
    const receivedAt = sentAt + 1200;
    expect(Math.abs(meterClock.getTime() - receivedAt)).toBeGreaterThan(2000);
    expect(resendClockDrift(meterClock, sentAt, receivedAt)).toBe(0);
  });

  it('measures a clock behind from the earliest time an in-step meter could answer', () => {
    const meterClock = new Date(sentAt - 5000);
    expect(resendClockDrift(meterClock, sentAt, sentAt + 100)).toBe(3000);
  });

  it('measures a clock ahead from the moment the answer arrived', () => {
    const meterClock = new Date(sentAt + 3100);
    expect(resendClockDrift(meterClock, sentAt, sentAt + 100)).toBe(3000);
  });
});
