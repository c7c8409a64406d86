import { exitIfShutdownHangs } from './shutdown-deadline';

describe('exitIfShutdownHangs', () => {
  let dispose: (() => void) | undefined;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    dispose?.();
    jest.useRealTimers();
  });

  it('exits with 1 and says why when the stop is still running at the deadline', () => {
    const report = jest.fn();
    const exit = jest.fn();
    dispose = exitIfShutdownHangs(35_000, report, exit);
    process.emit('SIGTERM', 'SIGTERM');
    jest.advanceTimersByTime(34_999);
    expect(exit).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(1);
    expect(report).toHaveBeenCalledWith('shutdown on SIGTERM did not finish within 35000 ms; exiting');
  });

  it('does nothing without a signal, and its timer never keeps a stopped process alive', () => {
    const exit = jest.fn();
    dispose = exitIfShutdownHangs(1_000, jest.fn(), exit);
    jest.advanceTimersByTime(10_000);
    expect(exit).not.toHaveBeenCalled();
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    process.emit('SIGINT', 'SIGINT');
    const timer = setTimeoutSpy.mock.results[0].value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
  });
});
