import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { SHUTDOWN_CLOSE_MS, exitIfShutdownHangs } from '@hes/observability';
import { createWorkerApp } from './bootstrap';

async function main(): Promise<void> {
  const app = await createWorkerApp();
  const config = app.get<AppConfig>(APP_CONFIG);
  // Running jobs get the grace period, the pools and sockets SHUTDOWN_CLOSE_MS more; then the process exits.
  const shutdown = new Logger('Shutdown');
  exitIfShutdownHangs(config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000 + SHUTDOWN_CLOSE_MS, (message) =>
    shutdown.error(message),
  );
  if (config.WORKER_HTTP_PORT > 0) await app.listen(config.WORKER_HTTP_PORT, config.API_HOST);
  else {
    await app.init();
    // Buffered start-up logs are flushed by listen(); without an HTTP port, flush them here.
    app.flushLogs();
  }
}

main().catch((error: Error) => {
  console.error(error.name === 'InvalidConfigurationError' ? error.message : error);
  process.exit(1);
});
