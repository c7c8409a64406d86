import {
  ArgumentMetadata,
  BadRequestException,
  PipeTransform,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { findUnsafeText } from '../../common/unsafe-text';

/** class-validator's messages of one error and its children, each naming the field by its full path. */
export function validationMessages(error: ValidationError, parent = ''): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((text) =>
    // class-validator's messages begin with the property name; nested ones get their full path.
    parent && text.startsWith(error.property) ? `${path}${text.slice(error.property.length)}` : text,
  );
  // Two rules of a field may share a message (IsString and Matches): say it once.
  return [
    ...new Set([...own, ...(error.children ?? []).flatMap((child) => validationMessages(child, path))]),
  ];
}

const classValidation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new BadRequestException(errors.flatMap((error) => validationMessages(error)).join('; ')),
});

/**
 * Validates admin bodies, queries and path parameters. First, any string holding a NUL character or an
 * unpaired UTF-16 surrogate is refused with a 400 naming its field (PostgreSQL cannot store them, and
 * no operator types them); then the class-validator DTO: unknown fields are refused, values are
 * converted to the DTO's types, and the 400 message names every field that is wrong.
 */
export const adminValidationPipe: PipeTransform = {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'custom') {
      // Fields of a body or query are named by themselves; a whole string body is "body".
      const root = metadata.data ?? (typeof value === 'string' ? metadata.type : '');
      const unsafe = findUnsafeText(value, root);
      if (unsafe) throw new BadRequestException(`${unsafe.path}: ${unsafe.problem}`);
    }
    return classValidation.transform(value, metadata);
  },
};
