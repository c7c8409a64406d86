import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { SHUTDOWN_CLOSE_MS, exitIfShutdownHangs } from '@hes/observability';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const app = await createApiApp();
  const config = app.get<AppConfig>(APP_CONFIG);
  const shutdown = new Logger('Shutdown');
  exitIfShutdownHangs(SHUTDOWN_CLOSE_MS, (message) => shutdown.error(message));
  await app.listen(config.API_PORT, config.API_HOST);
}

main().catch((error: Error) => {
  // Configuration errors name the variable; anything else is printed with its stack.
  console.error(error.name === 'InvalidConfigurationError' ? error.message : error);
  process.exit(1);
});
