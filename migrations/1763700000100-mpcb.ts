import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * MPCB OCEMS site client (docs/mpcb.md): the configured sites, monitoring units, analysers and parameters
 * with the driver source of each parameter; the readings, stored before any upload, with their upload
 * state; the upload log; calibration schedules; and the log of the central server's instructions.
 */
export class Mpcb1763700000100 implements MigrationInterface {
  name = 'Mpcb1763700000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SCHEMA IF NOT EXISTS mpcb`);
    await queryRunner.query(`
      CREATE TABLE mpcb.sites (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        site_id varchar(100) NOT NULL UNIQUE,
        site_uid varchar(100) NOT NULL,
        site_name varchar(200) NOT NULL DEFAULT '',
        site_label varchar(200) NOT NULL DEFAULT '',
        software_version_id varchar(100) NOT NULL,
        site_key_encrypted text NOT NULL,
        authorization_encoding varchar(8) NOT NULL DEFAULT 'hash'
          CHECK (authorization_encoding IN ('hash', 'pkcs7')),
        enabled boolean NOT NULL DEFAULT true,
        server_config_last_updated_time varchar(40),
        site_config_last_updated_time varchar(40),
        server_configuration jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE mpcb.monitoring_units (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        site_ref uuid NOT NULL REFERENCES mpcb.sites (id) ON DELETE CASCADE,
        monitoring_id varchar(100) NOT NULL,
        monitoring_type varchar(100) NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (site_ref, monitoring_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE mpcb.analysers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        monitoring_unit_ref uuid NOT NULL REFERENCES mpcb.monitoring_units (id) ON DELETE CASCADE,
        analyzer_id varchar(100) NOT NULL,
        analyzer_name varchar(200) NOT NULL DEFAULT '',
        maintenance boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (monitoring_unit_ref, analyzer_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE mpcb.parameters (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        analyser_ref uuid NOT NULL REFERENCES mpcb.analysers (id) ON DELETE CASCADE,
        parameter_id varchar(100) NOT NULL,
        parameter_name varchar(100) NOT NULL,
        unit varchar(50) NOT NULL,
        coefficient_a double precision NOT NULL DEFAULT 1,
        coefficient_b double precision NOT NULL DEFAULT 0,
        gauge_minimum double precision,
        gauge_maximum double precision,
        channel_no varchar(20) NOT NULL DEFAULT '0',
        source_gateway_ref uuid REFERENCES public.gateways (id) ON DELETE SET NULL,
        source_kind varchar(16) CHECK (source_kind IN ('sensor', 'meter')),
        source_channel varchar(50),
        source_device_serial varchar(100),
        source_quantity varchar(100),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (analyser_ref, parameter_id),
        CHECK (
          source_kind IS NULL
          OR (source_kind = 'sensor' AND source_gateway_ref IS NOT NULL AND source_channel IS NOT NULL)
          OR (source_kind = 'meter' AND source_gateway_ref IS NOT NULL AND source_device_serial IS NOT NULL
              AND source_quantity IS NOT NULL)
        )
      )`);
    await queryRunner.query(`
      CREATE TABLE mpcb.uploads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        monitoring_unit_ref uuid NOT NULL REFERENCES mpcb.monitoring_units (id) ON DELETE CASCADE,
        route varchar(8) NOT NULL CHECK (route IN ('realtime', 'delayed')),
        file_name varchar(300) NOT NULL,
        reading_count integer NOT NULL,
        first_reading_time timestamptz NOT NULL,
        last_reading_time timestamptz NOT NULL,
        status varchar(12) NOT NULL DEFAULT 'sending'
          CHECK (status IN ('sending', 'accepted', 'rejected', 'unreachable')),
        http_status integer,
        response jsonb,
        error text,
        started_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX uploads_unit_started_idx ON mpcb.uploads (monitoring_unit_ref, started_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE mpcb.readings (
        id bigserial PRIMARY KEY,
        parameter_ref uuid NOT NULL REFERENCES mpcb.parameters (id) ON DELETE CASCADE,
        monitoring_unit_ref uuid NOT NULL REFERENCES mpcb.monitoring_units (id) ON DELETE CASCADE,
        reading_time timestamptz NOT NULL,
        analyzer_id varchar(100) NOT NULL,
        parameter_id varchar(100) NOT NULL,
        parameter_name varchar(100) NOT NULL,
        reading_unit varchar(50) NOT NULL,
        raw_reading double precision NOT NULL,
        validated_reading double precision NOT NULL,
        quality_code varchar(4) NOT NULL,
        calibration_flag smallint NOT NULL CHECK (calibration_flag IN (0, 1)),
        maintenance_flag smallint NOT NULL CHECK (maintenance_flag IN (0, 1)),
        device_time timestamptz,
        force_delayed boolean NOT NULL DEFAULT false,
        upload_ref uuid REFERENCES mpcb.uploads (id),
        sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (parameter_ref, reading_time)
      )`);
    await queryRunner.query(`
      CREATE INDEX readings_unsent_idx ON mpcb.readings (monitoring_unit_ref, reading_time, id)
       WHERE sent_at IS NULL`);
    await queryRunner.query(`
      CREATE TABLE mpcb.calibrations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        monitoring_unit_ref uuid NOT NULL REFERENCES mpcb.monitoring_units (id) ON DELETE CASCADE,
        calibration_type varchar(16) NOT NULL,
        remote_calibration_id varchar(100),
        analyzer_id varchar(100),
        parameter_id varchar(100),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        configuration jsonb NOT NULL,
        acknowledged_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (ends_at > starts_at)
      )`);
    await queryRunner.query(
      `CREATE INDEX calibrations_unit_window_idx ON mpcb.calibrations (monitoring_unit_ref, starts_at, ends_at)`,
    );
    await queryRunner.query(`
      CREATE TABLE mpcb.instructions (
        id bigserial PRIMARY KEY,
        monitoring_unit_ref uuid NOT NULL REFERENCES mpcb.monitoring_units (id) ON DELETE CASCADE,
        flag varchar(40) NOT NULL,
        status varchar(12) NOT NULL CHECK (status IN ('completed', 'failed')),
        detail text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA mpcb CASCADE`);
  }
}
