import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import {
  ADMIN_PRINCIPAL,
  AdminAuthenticationError,
  AdminAuthenticator,
  AdminPrincipal,
} from './admin-authenticator';

export type AdminRequest = Request & { [ADMIN_PRINCIPAL]?: AdminPrincipal };

/** Every admin controller: refuses the request unless it carries the configured admin credentials. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly logger = new Logger('Admin');

  constructor(private readonly authenticator: AdminAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    try {
      request[ADMIN_PRINCIPAL] = await this.authenticator.authenticateRequest(
        request.headers.authorization,
        request.ip ?? request.socket.remoteAddress ?? 'unknown',
      );
      return true;
    } catch (error) {
      if (error instanceof AdminAuthenticationError)
        this.logger.warn(
          { path: request.path, address: request.ip, reason: error.message },
          'admin access refused',
        );
      throw error;
    }
  }
}
