import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { deleteInBatches } from '../query-result.util';

/**
 * How long a privatekey that expired or was revoked is kept (for a person looking into an MDM's access)
 * before the hourly maintenance removes it.
 */
export const SPENT_PRIVATEKEY_DAYS = 7;

/**
 * The privatekeys authorization_service issued (public.udil_private_keys: one row per authorization, only
 * their SHA-256). An MDM that authorizes before every request adds a row each time: without the pruning
 * the table, and the admin API's count of a client's active keys, grow for as long as the system runs.
 */
@Injectable()
export class UdilPrivateKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Removes the keys that expired or were revoked before `spentBefore`, at most `batch` per statement so
   * that no statement holds its locks long; answers how many.
   */
  async pruneSpent(spentBefore: Date, batch = 10_000): Promise<number> {
    return deleteInBatches(
      this.dataSource,
      `DELETE FROM public.udil_private_keys WHERE key_hash IN (
         SELECT key_hash FROM public.udil_private_keys
          WHERE expires_at < $1 OR revoked_at < $1 LIMIT $2)
       RETURNING key_hash`,
      [spentBefore],
      batch,
    );
  }
}
