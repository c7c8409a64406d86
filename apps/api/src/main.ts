import 'reflect-metadata';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const app = await createApiApp();
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(config.API_PORT, config.API_HOST);
}

main().catch((error: Error) => {
  // Configuration errors name the variable; anything else is printed with its stack.
  console.error(error.name === 'InvalidConfigurationError' ? error.message : error);
  process.exit(1);
});
