import 'reflect-metadata';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { createWorkerApp } from './bootstrap';

async function main(): Promise<void> {
  const app = await createWorkerApp();
  const config = app.get<AppConfig>(APP_CONFIG);
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
