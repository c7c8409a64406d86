/**
 * The time the site client lives by. Acquisition, transmission and the calibration schedule read it
 * through this interface so that tests can run a 20-minute outage in a moment with a fake clock.
 */
export interface MpcbClock {
  now(): Date;
}

export const MPCB_CLOCK = Symbol('MPCB_CLOCK');

export const systemClock: MpcbClock = { now: () => new Date() };

/** A clock that moves only when told: for tests and replays. */
export class ManualClock implements MpcbClock {
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(at: Date): void {
    this.current = at.getTime();
  }

  advance(ms: number): Date {
    this.current += ms;
    return this.now();
  }
}
