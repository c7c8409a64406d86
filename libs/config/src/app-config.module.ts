import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Environment, parseEnvironment } from './environment';

/** Injection token of the validated, typed configuration object. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export type AppConfig = Readonly<Environment>;

@Global()
@Module({})
export class AppConfigModule {
  /**
   * Note that @nestjs/config validates when this is called, i.e. when the importing module is
   * loaded: entry points therefore load their root module with a dynamic import inside a try.
   *
   * Validates the environment (and an optional `.env` file) at start-up: a missing or malformed
   * variable stops the application with a message naming it.
   */
  static forRoot(): DynamicModule {
    return {
      module: AppConfigModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          cache: true,
          validate: (raw) => parseEnvironment(raw),
        }),
      ],
      providers: [
        {
          provide: APP_CONFIG,
          // ConfigService is injected so that the optional .env file has been merged into process.env.
          inject: [ConfigService],
          useFactory: (_config: ConfigService): AppConfig => Object.freeze(parseEnvironment(process.env)),
        },
      ],
      exports: [APP_CONFIG],
    };
  }
}
