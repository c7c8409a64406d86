/** Time the shutdown hooks get to close pools and sockets once the running work is finished or handed back. */
export const SHUTDOWN_CLOSE_MS = 20_000;

/**
 * A stop that never ends is a process an orchestrator must kill: on the first SIGTERM or SIGINT this
 * arms a timer (unref'd, so it never keeps a finished process alive) that reports the hang and exits
 * with 1 if the orderly shutdown (Nest's shutdown hooks) is still running after `deadlineMs`.
 * What it leaves undone is safe to leave: running jobs keep their rows live in PostgreSQL and run
 * again after their lock lapses.
 */
export function exitIfShutdownHangs(
  deadlineMs: number,
  report: (message: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let armed = false;
  const arm = (signal: NodeJS.Signals) => {
    if (armed) return;
    armed = true;
    const timer = setTimeout(() => {
      report(`shutdown on ${signal} did not finish within ${deadlineMs} ms; exiting`);
      exit(1);
    }, deadlineMs);
    timer.unref();
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  for (const signal of signals) process.once(signal, arm);
  return () => {
    for (const signal of signals) process.off(signal, arm);
  };
}
