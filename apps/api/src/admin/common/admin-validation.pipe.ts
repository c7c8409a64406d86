import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

function messages(error: ValidationError, parent = ''): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((text) =>
    // class-validator's messages begin with the property name; nested ones get their full path.
    parent && text.startsWith(error.property) ? `${path}${text.slice(error.property.length)}` : text,
  );
  return [...own, ...(error.children ?? []).flatMap((child) => messages(child, path))];
}

/**
 * Validates admin bodies and queries with their class-validator DTOs: unknown fields are refused,
 * values are converted to the DTO's types, and the 400 message names every field that is wrong.
 */
export const adminValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new BadRequestException(errors.flatMap((error) => messages(error)).join('; ')),
});
