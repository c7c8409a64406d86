import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { McsClient } from './mcs-access';

/** The columns of public.mcs_clients the access rules read. */
interface McsClientRow {
  id: string;
  name: string;
  enabled: boolean;
  allowed_addresses: string[];
  username: string | null;
  password_hash: string | null;
}

/** The MCS clients registered through the admin API (public.mcs_clients), as the access rules see them. */
@Injectable()
export class McsClientRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every registered client; a disabled one without its credentials (it admits nobody). */
  async clients(): Promise<McsClient[]> {
    const rows = await this.dataSource.query<McsClientRow[]>(
      `SELECT id, name, enabled, allowed_addresses, username,
              CASE WHEN enabled THEN password_hash END AS password_hash
         FROM public.mcs_clients ORDER BY name`,
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      enabled: row.enabled,
      allowedAddresses: row.allowed_addresses,
      credentials:
        row.username !== null && row.password_hash !== null
          ? { username: row.username, passwordHash: row.password_hash }
          : null,
    }));
  }

  /** Stamps last_seen_at, at most once a minute (the row is not written on every request). */
  async markSeen(id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE public.mcs_clients SET last_seen_at = now()
        WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')`,
      [id],
    );
  }
}
