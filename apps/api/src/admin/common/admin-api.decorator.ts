import { UseFilters, UseGuards, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminAuditInterceptor } from '../audit/admin-audit.interceptor';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { AdminExceptionFilter } from './admin-exception.filter';
import { adminValidationPipe } from './admin-validation.pipe';

/** Names of the security schemes declared in the OpenAPI document (apps/api/src/bootstrap.ts). */
export const ADMIN_BEARER_SCHEME = 'admin-token';
export const ADMIN_BASIC_SCHEME = 'admin-basic';

export class AdminErrorDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'name must be shorter than or equal to 100 characters' })
  message!: string;
}

/**
 * What every admin controller carries: the credentials guard, validation, the audit interceptor, the
 * admin error envelope, and the security schemes and refusals in Swagger.
 */
export function AdminApi(tag: string): ClassDecorator {
  return applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(ADMIN_BEARER_SCHEME),
    ApiBasicAuth(ADMIN_BASIC_SCHEME),
    ApiUnauthorizedResponse({
      description: 'no credentials, or wrong ones',
      type: AdminErrorDto,
      example: { statusCode: 401, message: 'authorization: credentials are not valid' },
    }),
    ApiForbiddenResponse({
      description: 'admin access is not configured on this server',
      type: AdminErrorDto,
      example: {
        statusCode: 403,
        message: 'admin access is disabled: set ADMIN_TOKEN, or ADMIN_USERNAME and ADMIN_PASSWORD',
      },
    }),
    UseGuards(AdminAuthGuard),
    UsePipes(adminValidationPipe),
    UseInterceptors(AdminAuditInterceptor),
    UseFilters(AdminExceptionFilter),
  );
}
