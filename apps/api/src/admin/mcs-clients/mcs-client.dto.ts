import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { addressRangeError } from '@hes/mcs';
import { PageOf } from '../common/page-query.dto';

/** Most entries one client's allow-list may have. */
export const MAX_ALLOWED_ADDRESSES = 100;

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.\- ]{0,98}[A-Za-z0-9_.-])?$/;
/** An HTTP Basic username: no colon, nothing a header would mangle. */
const USERNAME = /^[A-Za-z0-9._@-]{1,100}$/;

/** Why a value is not an allow-list (the rules of MCS_ALLOWED_CLIENTS), naming the entry; undefined when it is one. */
function allowListError(value: unknown, property: string): string | undefined {
  if (!Array.isArray(value)) return `${property} must be an array of IP addresses or CIDR ranges`;
  if (value.length > MAX_ALLOWED_ADDRESSES)
    return `${property} must have at most ${MAX_ALLOWED_ADDRESSES} entries`;
  for (const [index, entry] of value.entries()) {
    if (typeof entry !== 'string' || entry === '')
      return `${property}[${index}] must be an IP address or CIDR range`;
    const error = addressRangeError(entry);
    if (error) return `${property}[${index}]: ${error}`;
  }
  return undefined;
}

/** `["10.20.0.0/16", "192.0.2.10"]`: entries are trimmed, then checked as MCS_ALLOWED_CLIENTS's are. */
function IsAllowList(): PropertyDecorator {
  return (target, property) =>
    registerDecorator({
      name: 'isAllowList',
      target: target.constructor,
      propertyName: String(property),
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          allowListError(value, args.property) === undefined,
        defaultMessage: (args?: ValidationArguments) =>
          allowListError(args?.value, args?.property ?? 'allowedAddresses') ?? '',
      },
    });
}

const trimEntries = ({ value }: { value: unknown }) =>
  Array.isArray(value)
    ? (value as unknown[]).map((entry) => (typeof entry === 'string' ? entry.trim() : entry))
    : value;

const nameProperty = (required: boolean) =>
  (required ? ApiProperty : ApiPropertyOptional)({
    example: 'lesco-master',
    description: 'unique name of the master application',
    maxLength: 100,
  });
const nameRule = () =>
  Matches(NAME, {
    message: 'name must be 1 to 100 letters, digits, _ . - or inner spaces, starting with a letter or digit',
  });
const allowedAddressesProperty = (required: boolean) =>
  (required ? ApiProperty : ApiPropertyOptional)({
    type: [String],
    example: ['10.20.0.0/16', '192.0.2.10'],
    description: `IP addresses and CIDR ranges the client may call from (at most ${MAX_ALLOWED_ADDRESSES}); [] admits any address`,
  });

const usernameProperty = (required: boolean) =>
  (required ? ApiProperty : ApiPropertyOptional)({
    example: 'lesco_master',
    description: 'HTTP Basic username, unique among MCS clients: 1 to 100 letters, digits or . _ @ -',
  });
const usernameRule = () =>
  Matches(USERNAME, { message: 'username must be 1 to 100 letters, digits or . _ @ -' });

/** The password rules shared by creation and credential changes. */
class PasswordField {
  @ApiPropertyOptional({
    example: 'Vq3!x9-master-pw',
    description:
      'at least 8 characters, stored as a scrypt hash; generated (and answered once) when left out',
  })
  @IsOptional()
  @IsString()
  @Length(8, 200)
  password?: string;
}

export class CreateMcsClientDto extends PasswordField {
  @nameProperty(true)
  @nameRule()
  name!: string;

  @allowedAddressesProperty(true)
  @Transform(trimEntries)
  @IsAllowList()
  allowedAddresses!: string[];

  @usernameProperty(false)
  @IsOptional()
  @usernameRule()
  username?: string;
}

export class UpdateMcsClientDto {
  @nameProperty(false)
  @IsOptional()
  @nameRule()
  name?: string;

  @allowedAddressesProperty(false)
  @IsOptional()
  @Transform(trimEntries)
  @IsAllowList()
  allowedAddresses?: string[];
}

export class SetMcsCredentialsDto extends PasswordField {
  @usernameProperty(true)
  @usernameRule()
  username!: string;
}

export const MCS_CLIENT_EXAMPLE = {
  id: '7b3e9c2a-4f1d-4c8e-9a6b-2d5f0e1c3a77',
  name: 'lesco-master',
  allowedAddresses: ['10.20.0.0/16', '192.0.2.10'],
  username: 'lesco_master',
  enabled: true,
  lastSeenAt: '2026-11-21T10:02:00.000Z',
  createdAt: '2026-11-21T09:00:00.000Z',
  updatedAt: '2026-11-21T09:00:00.000Z',
};

export class McsClientDto {
  @ApiProperty({ example: MCS_CLIENT_EXAMPLE.id })
  id!: string;
  @ApiProperty({ example: MCS_CLIENT_EXAMPLE.name })
  name!: string;
  @ApiProperty({
    type: [String],
    example: MCS_CLIENT_EXAMPLE.allowedAddresses,
    description: '[] admits any address',
  })
  allowedAddresses!: string[];
  @ApiProperty({
    example: MCS_CLIENT_EXAMPLE.username,
    nullable: true,
    type: String,
    description: 'HTTP Basic username; null for an address-only client (the password is never answered)',
  })
  username!: string | null;
  @ApiProperty({ example: true, description: 'a disabled client admits nobody' })
  enabled!: boolean;
  @ApiProperty({
    example: MCS_CLIENT_EXAMPLE.lastSeenAt,
    nullable: true,
    type: Date,
    description: 'last MCS request it was admitted for (stamped at most once a minute)',
  })
  lastSeenAt!: Date | null;
  @ApiProperty({ example: MCS_CLIENT_EXAMPLE.createdAt })
  createdAt!: Date;
  @ApiProperty({ example: MCS_CLIENT_EXAMPLE.updatedAt })
  updatedAt!: Date;
}

export class McsClientSecretsDto extends McsClientDto {
  @ApiPropertyOptional({
    example: 'q7VYb3kRzN2mC8xAp4Ts0wEe',
    description: 'present only when generated by the server: shown this once, stored hashed',
  })
  password?: string;
}

export class McsClientPageDto extends PageOf(McsClientDto) {}

export class McsEnvironmentClientDto {
  @ApiProperty({
    example: true,
    description: 'whether MCS_ALLOWED_CLIENTS or MCS_USERNAME / MCS_PASSWORD configure a client',
  })
  configured!: boolean;
  @ApiProperty({ type: [String], example: ['127.0.0.1', '10.0.0.0/8'], description: 'MCS_ALLOWED_CLIENTS' })
  allowedAddresses!: string[];
  @ApiProperty({
    example: 'master',
    nullable: true,
    type: String,
    description: 'MCS_USERNAME (MCS_PASSWORD is never answered)',
  })
  username!: string | null;
  @ApiProperty({
    example: false,
    description:
      'true while no MCS client is registered (enabled or not) and the environment configures none: MCS admits every request',
  })
  mcsOpen!: boolean;
}
