import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@hes/config';
import { useBodyParsers } from './common/body-parsers';

/**
 * Builds the api application. The root module is loaded here, inside the caller's try, because
 * loading it validates the configuration.
 */
export async function createApiApp(): Promise<INestApplication> {
  const { AppModule } = await import('./app.module');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(APP_CONFIG);
  useBodyParsers(app, config);
  app.enableShutdownHooks();
  if (config.SWAGGER_ENABLED) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Head-end and meter-data server')
        .setDescription(
          'UDIL (Universal Data Integration Layer) for MDM systems, MCS collection requests, operator administration, health and metrics.',
        )
        .setVersion('0.1.0')
        // Admin routes (apps/api/src/admin): ADMIN_TOKEN as a bearer token, or ADMIN_USERNAME / ADMIN_PASSWORD.
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin-token')
        .addBasicAuth(
          { type: 'http', scheme: 'basic', description: 'ADMIN_USERNAME / ADMIN_PASSWORD' },
          'admin-basic',
        )
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
  }
  return app;
}
