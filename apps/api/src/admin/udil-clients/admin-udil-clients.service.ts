import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@hes/database';
import { hashSecret } from '@hes/udil';
import { generatedPassword } from '../common/generated-password';
import {
  CreateUdilClientDto,
  RevokedKeysDto,
  RotateUdilClientDto,
  UdilClientDto,
  UdilClientSecretsDto,
} from './udil-client.dto';

interface ClientRow {
  id: string;
  username: string;
  enabled: boolean;
  active_keys: number;
  last_authorized_at: Date | null;
  created_at: Date;
}

const SELECT_CLIENTS = `
  SELECT c.id, c.username, c.enabled, c.last_authorized_at, c.created_at,
         (SELECT count(*)::int FROM public.udil_private_keys k
           WHERE k.client_id = c.id AND k.revoked_at IS NULL AND k.expires_at > now()) AS active_keys
    FROM public.udil_clients c`;

function generatedCode(): string {
  return String(randomInt(100_000, 1_000_000));
}

/**
 * MDM accounts of the UDIL API. Passwords and codes are stored as scrypt hashes (as
 * authorization_service checks them); ones the server generates are answered once and never again.
 */
@Injectable()
export class AdminUdilClientsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(input: CreateUdilClientDto): Promise<UdilClientSecretsDto> {
    const password = input.password ?? generatedPassword();
    const code = input.code ?? generatedCode();
    const [created] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO public.udil_clients (username, password_hash, code_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING RETURNING id`,
      [input.username, await hashSecret(password), await hashSecret(code)],
    );
    if (!created)
      throw new ConflictException(`username: a UDIL client named ${input.username} already exists`);
    return {
      ...(await this.get(created.id)),
      ...(input.password ? {} : { password }),
      ...(input.code ? {} : { code }),
      revokedKeys: 0,
    };
  }

  async list(): Promise<UdilClientDto[]> {
    const rows = await this.dataSource.query<ClientRow[]>(`${SELECT_CLIENTS} ORDER BY c.username`);
    return rows.map((row) => this.view(row));
  }

  async get(id: string): Promise<UdilClientDto> {
    const [row] = await this.dataSource.query<ClientRow[]>(`${SELECT_CLIENTS} WHERE c.id = $1`, [id]);
    if (!row) throw new NotFoundException(`id: no UDIL client ${id}`);
    return this.view(row);
  }

  /** New password and code (given or generated); every privatekey issued with the old ones is revoked. */
  async rotate(id: string, input: RotateUdilClientDto): Promise<UdilClientSecretsDto> {
    const password = input.password ?? generatedPassword();
    const code = input.code ?? generatedCode();
    const [passwordHash, codeHash] = await Promise.all([hashSecret(password), hashSecret(code)]);
    const revokedKeys = await this.dataSource.transaction(async (manager) => {
      const updated = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE public.udil_clients SET password_hash = $2, code_hash = $3, updated_at = now()
            WHERE id = $1 RETURNING id`,
          [id, passwordHash, codeHash],
        ),
      );
      if (updated.length === 0) throw new NotFoundException(`id: no UDIL client ${id}`);
      return this.revoke(manager, id);
    });
    return {
      ...(await this.get(id)),
      ...(input.password ? {} : { password }),
      ...(input.code ? {} : { code }),
      revokedKeys,
    };
  }

  /** Revokes every privatekey of the client now; it can authorize again for new ones. */
  async revokeKeys(id: string): Promise<RevokedKeysDto> {
    await this.get(id);
    const revokedKeys = await this.revoke(this.dataSource.manager, id);
    return { ...(await this.get(id)), revokedKeys };
  }

  /** Disabling refuses authorization_service and every key of the client; keys are revoked too. */
  async setEnabled(id: string, enabled: boolean): Promise<RevokedKeysDto> {
    const revokedKeys = await this.dataSource.transaction(async (manager) => {
      const updated = returnedRows<{ id: string }>(
        await manager.query(
          `UPDATE public.udil_clients SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING id`,
          [id, enabled],
        ),
      );
      if (updated.length === 0) throw new NotFoundException(`id: no UDIL client ${id}`);
      return enabled ? 0 : this.revoke(manager, id);
    });
    return { ...(await this.get(id)), revokedKeys };
  }

  private async revoke(manager: EntityManager, clientId: string): Promise<number> {
    const revoked = returnedRows<{ key_hash: string }>(
      await manager.query(
        `UPDATE public.udil_private_keys SET revoked_at = now()
          WHERE client_id = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING key_hash`,
        [clientId],
      ),
    );
    return revoked.length;
  }

  private view(row: ClientRow): UdilClientDto {
    return {
      id: row.id,
      username: row.username,
      enabled: row.enabled,
      activeKeys: row.active_keys,
      lastAuthorizedAt: row.last_authorized_at,
      createdAt: row.created_at,
    };
  }
}
