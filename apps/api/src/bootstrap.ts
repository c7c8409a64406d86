import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { readFileSync } from 'node:fs';
import type { HttpsOptions } from '@nestjs/common/interfaces/external/https-options.interface';
import { APP_CONFIG, AppConfig, Environment, parseEnvironment } from '@hes/config';
import { HttpRequestMetrics, RequestLogging } from '@hes/observability';
import { bodyParsers } from './common/body-parsers';
import { BoundedExpressAdapter, requestTimeouts } from './common/bounded-http-adapter';
import { inOneLayer } from './common/one-layer';
import { securityHeaders } from './common/security-headers';
import { refuseUndecodablePath } from './common/undecodable-path';

/** The api's own HTTPS (API_TLS_CERT_FILE, API_TLS_KEY_FILE), or undefined for plain HTTP. */
export function httpsOptionsOf(environment: Environment): HttpsOptions | undefined {
  if (!environment.API_TLS_CERT_FILE || !environment.API_TLS_KEY_FILE) return undefined;
  // Node's defaults: TLS 1.2 and 1.3 only, its cipher list.
  return {
    cert: readFileSync(environment.API_TLS_CERT_FILE),
    key: readFileSync(environment.API_TLS_KEY_FILE),
  };
}

/** Express's "trust proxy" value for API_TRUST_PROXY: false for none, else the list of trusted proxies. */
export function trustedProxies(setting: string): false | string[] {
  const entries = setting
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return entries.length === 0 ? false : entries;
}

/**
 * Builds the api application. The root module is loaded here, inside the caller's try, because
 * loading it validates the configuration.
 */
export async function createApiApp(): Promise<INestApplication> {
  const { AppModule } = await import('./app.module');
  // Validated (and .env merged) by loading the root module above; HTTPS is chosen before the app exists.
  const environment = parseEnvironment(process.env);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule,
    new BoundedExpressAdapter(requestTimeouts(environment.API_REQUEST_TIMEOUT_MS)),
    {
      bufferLogs: true,
      abortOnError: false,
      bodyParser: false,
      httpsOptions: httpsOptionsOf(environment),
    },
  );
  app.useLogger(app.get(Logger));
  const config = app.get<AppConfig>(APP_CONFIG);
  // Behind a TLS-terminating proxy: the client's address and protocol are the proxy's X-Forwarded-* ones.
  app.set('trust proxy', trustedProxies(config.API_TRUST_PROXY));
  // Which framework answers is nobody's business (security-headers.ts sets what a browser should obey).
  app.disable('x-powered-by');
  // In this order, as one layer of Express's router (the router's work per layer is paid once per request):
  // the security headers (on every answer, refusals of the body parsers included); the body parsers; the
  // refusal of undecodable paths, logging and metrics after them (as the Nest middleware they replace ran),
  // before every route.
  app.use(
    inOneLayer(
      securityHeaders,
      bodyParsers(config),
      refuseUndecodablePath,
      app.get(RequestLogging).handle,
      app.get(HttpRequestMetrics).handle,
    ),
  );
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
