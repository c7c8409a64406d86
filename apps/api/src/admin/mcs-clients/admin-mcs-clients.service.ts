import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { returnedRows } from '@hes/database';
import { McsClientAccess } from '@hes/mcs';
import { hashSecret } from '@hes/udil';
import { AdminTransactions } from '../audit/admin-transaction';
import { generatedPassword } from '../common/generated-password';
import { PageQueryDto, Paged, paged } from '../common/page-query.dto';
import {
  CreateMcsClientDto,
  McsClientDto,
  McsClientSecretsDto,
  McsEnvironmentClientDto,
  SetMcsCredentialsDto,
  UpdateMcsClientDto,
} from './mcs-client.dto';

interface McsClientRow {
  id: string;
  name: string;
  allowed_addresses: string[];
  username: string | null;
  enabled: boolean;
  last_seen_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Every column but the password hash, which is never answered. */
const COLUMNS = 'id, name, allowed_addresses, username, enabled, last_seen_at, created_at, updated_at';

/** A unique violation of public.mcs_clients as the 409 naming the field; anything else is thrown again. */
function conflictOf(error: unknown, input: { name?: string; username?: string }): never {
  const driverError =
    error instanceof QueryFailedError
      ? (error.driverError as { code?: string; constraint?: string } | undefined)
      : undefined;
  if (driverError?.code === '23505' && driverError.constraint === 'mcs_clients_name_key')
    throw new ConflictException(`name: an MCS client named ${input.name} already exists`);
  if (driverError?.code === '23505' && driverError.constraint === 'mcs_clients_username_key')
    throw new ConflictException(`username: an MCS client with username ${input.username} already exists`);
  throw error;
}

function view(row: McsClientRow): McsClientDto {
  return {
    id: row.id,
    name: row.name,
    allowedAddresses: row.allowed_addresses,
    username: row.username,
    enabled: row.enabled,
    lastSeenAt: row.last_seen_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Master applications allowed to call the MCS API (docs/mcs.md): their allowed addresses and optional
 * HTTP Basic credentials. Passwords are stored as scrypt hashes; one the server generates is answered
 * once. Every change drops the clients McsClientAccess has cached, so it applies to the next request.
 */
@Injectable()
export class AdminMcsClientsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly access: McsClientAccess,
    private readonly transactions: AdminTransactions,
  ) {}

  async create(input: CreateMcsClientDto): Promise<McsClientSecretsDto> {
    // JSON null is "not given" (IsOptional lets it through): a null username is an address-only client.
    const username = input.username ?? undefined;
    const givenPassword = input.password ?? undefined;
    if (givenPassword !== undefined && username === undefined)
      throw new BadRequestException('username is required when a password is given');
    const password = username === undefined ? undefined : (givenPassword ?? generatedPassword());
    const rows = await this.write(
      `INSERT INTO public.mcs_clients (name, allowed_addresses, username, password_hash)
       VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [
        input.name,
        input.allowedAddresses,
        username ?? null,
        password === undefined ? null : await hashSecret(password),
      ],
      input,
    );
    return { ...view(rows[0]), ...(givenPassword === undefined && password ? { password } : {}) };
  }

  async list(query: PageQueryDto): Promise<Paged<McsClientDto>> {
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query<McsClientRow[]>(
        `SELECT ${COLUMNS} FROM public.mcs_clients ORDER BY name LIMIT $1 OFFSET $2`,
        [query.pageSize, query.offset],
      ),
      this.dataSource.query<{ total: number }[]>(`SELECT count(*)::int AS total FROM public.mcs_clients`),
    ]);
    return paged(query, rows.map(view), total);
  }

  async get(id: string): Promise<McsClientDto> {
    const [row] = await this.dataSource.query<McsClientRow[]>(
      `SELECT ${COLUMNS} FROM public.mcs_clients WHERE id = $1`,
      [id],
    );
    if (!row) throw new NotFoundException(`id: no MCS client ${id}`);
    return view(row);
  }

  /** The client MCS_ALLOWED_CLIENTS / MCS_USERNAME configure, and whether MCS admits everybody. */
  async environment(): Promise<McsEnvironmentClientDto> {
    const client = this.access.environmentClient;
    return {
      configured: client !== undefined,
      allowedAddresses: [...(client?.allowedAddresses ?? [])],
      username: client?.credentials?.username ?? null,
      mcsOpen: await this.access.isOpen(),
    };
  }

  async update(id: string, input: UpdateMcsClientDto): Promise<McsClientDto> {
    if (input.name === undefined && input.allowedAddresses === undefined)
      throw new BadRequestException('name or allowedAddresses is required');
    return this.change(
      id,
      `UPDATE public.mcs_clients
          SET name = coalesce($2, name), allowed_addresses = coalesce($3, allowed_addresses), updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [input.name ?? null, input.allowedAddresses ?? null],
      input,
    );
  }

  /** Sets or replaces username and password (given, or generated and answered once). */
  async setCredentials(id: string, input: SetMcsCredentialsDto): Promise<McsClientSecretsDto> {
    const givenPassword = input.password ?? undefined;
    const password = givenPassword ?? generatedPassword();
    const client = await this.change(
      id,
      `UPDATE public.mcs_clients SET username = $2, password_hash = $3, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [input.username, await hashSecret(password)],
      input,
    );
    return { ...client, ...(givenPassword === undefined ? { password } : {}) };
  }

  /** Makes the client address-only: its allowed addresses are enough. */
  removeCredentials(id: string): Promise<McsClientDto> {
    return this.change(
      id,
      `UPDATE public.mcs_clients SET username = NULL, password_hash = NULL, updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [],
    );
  }

  /** A disabled client admits nobody (and, while it exists, MCS is not open to everybody). */
  setEnabled(id: string, enabled: boolean): Promise<McsClientDto> {
    return this.change(
      id,
      `UPDATE public.mcs_clients SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [enabled],
    );
  }

  /** Deletes the client; the answer is the client as it was. */
  remove(id: string): Promise<McsClientDto> {
    return this.change(id, `DELETE FROM public.mcs_clients WHERE id = $1 RETURNING ${COLUMNS}`, []);
  }

  /** Runs a statement on the client `id` (the first parameter), answering the row it returns, or 404. */
  private async change(
    id: string,
    sql: string,
    parameters: unknown[],
    input: { name?: string; username?: string } = {},
  ): Promise<McsClientDto> {
    const [row] = await this.write(sql, [id, ...parameters], input);
    if (!row) throw new NotFoundException(`id: no MCS client ${id}`);
    return view(row);
  }

  /** Writes to public.mcs_clients: duplicates answer 409, and the clients cached for MCS are dropped. */
  private async write(
    sql: string,
    parameters: unknown[],
    input: { name?: string; username?: string },
  ): Promise<McsClientRow[]> {
    try {
      return returnedRows<McsClientRow>(await this.dataSource.query(sql, parameters));
    } catch (error) {
      conflictOf(error, input);
    } finally {
      // Dropped now and again once the change is committed (AdminTransactions), so that no MCS request
      // in between keeps the clients as they were.
      this.access.invalidate();
      this.transactions.afterCommit(() => this.access.invalidate());
    }
  }
}
