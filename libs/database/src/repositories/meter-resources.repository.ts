import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Optional resources of one meter: name → the meter provides it (the drivers' MeterResources). */
export type StoredMeterResources = Record<string, boolean>;

/**
 * public.meter_resources: what each meter behind a gateway provides, as its driver discovered it
 * (the drivers' MeterResourceCatalogue, kept in PostgreSQL so every worker shares it).
 */
@Injectable()
export class MeterResourceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async load(
    gatewayId: string,
    serial: string,
  ): Promise<{ resources: StoredMeterResources; discoveredAt: Date } | undefined> {
    const [row] = await this.dataSource.query<{ resources: StoredMeterResources; discovered_at: Date }[]>(
      `SELECT resources, discovered_at FROM public.meter_resources WHERE gateway_id = $1 AND serial = $2`,
      [gatewayId, serial],
    );
    return row ? { resources: row.resources, discoveredAt: row.discovered_at } : undefined;
  }

  async save(gatewayId: string, serial: string, resources: StoredMeterResources): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO public.meter_resources (gateway_id, serial, resources, discovered_at)
       VALUES ($1, $2, $3::jsonb, now())
       ON CONFLICT (gateway_id, serial) DO UPDATE SET resources = EXCLUDED.resources, discovered_at = now()`,
      [gatewayId, serial, JSON.stringify(resources)],
    );
  }

  /** The catalogued resources of a gateway's meters, with when they were discovered. */
  list(
    gatewayId: string,
  ): Promise<{ serial: string; resources: StoredMeterResources; discovered_at: Date }[]> {
    return this.dataSource.query(
      `SELECT serial, resources, discovered_at FROM public.meter_resources WHERE gateway_id = $1 ORDER BY serial`,
      [gatewayId],
    );
  }
}
