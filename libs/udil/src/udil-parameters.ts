import { isIP } from 'node:net';
import { z } from 'zod';
import {
  ApmsType,
  CANCELLATION_TYPES,
  CancellationType,
  LEGACY_APMS_CODES,
  OnDemandType,
  UdilCommand,
} from './udil-vocabulary';
import { findUnsafeField } from '@hes/security';
import { parseUdilDatetime } from './udil-datetime';
import { UdilRequestError } from './udil-error';

/**
 * Normalisation and validation of UDIL request parameters. Real MDM clients are sloppy
 * (README, "UDIL"): values are trimmed (and one layer of surrounding quotes removed, as the spec's
 * examples show them), codes are read case-insensitively, set-valued fields arrive as a JSON string, a
 * real array or a bare id, and unknown fields are ignored. Every problem names its field.
 */

export type RawFields = Record<string, unknown>;

const QUOTES = /^["“”'](.*)["“”']$/s;

export function toText(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return value;
  let text = value.trim();
  // The spec's own examples quote values, once or twice (4.7: ""2018-10-15 13:00:00"").
  for (let quoted = QUOTES.exec(text); quoted; quoted = QUOTES.exec(text)) text = quoted[1].trim();
  return text;
}

/** A set: a real array, a JSON array in a string, or a bare value (a set of one). */
export function toList(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (typeof value === 'number') return [String(value)];
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return [];
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text.replace(/[“”]/g, '"'));
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return { invalidJson: text };
    }
  }
  return [toText(text)];
}

/** A form's empty field: a value not given. */
const blankAsMissing = (value: unknown): unknown => (toText(value) === '' ? undefined : value);

const required = z.preprocess(toText, z.string({ error: 'is required' }).min(1, 'is required'));

const integer = (min: number, max: number, meaning = `an integer from ${min} to ${max}`) =>
  required
    .refine((v) => /^-?\d+$/.test(v), { message: `must be ${meaning}` })
    .transform(Number)
    .refine((v) => v >= min && v <= max, { message: `must be ${meaning}` });

const decimal = (meaning: string) =>
  required.refine((v) => /^\d+(\.\d+)?$/.test(v), { message: `must be ${meaning}` }).transform(Number);

const code = <T extends string>(values: readonly T[], meaning: string) =>
  required.transform((v, ctx) => {
    const match = values.find((candidate) => candidate.toUpperCase() === v.toUpperCase());
    if (match === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be ${meaning}` });
      return z.NEVER;
    }
    return match;
  });

const timeOfDay = (withSeconds: boolean) =>
  required.refine(
    (v) => (withSeconds ? /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/ : /^([01]\d|2[0-3]):[0-5]\d$/).test(v),
    {
      message: `must be a time ${withSeconds ? 'HH:mm:ss' : 'HH:mm'}`,
    },
  );

const phoneNumber = required.refine((v) => /^\+?\d{7,15}$/.test(v), {
  message: 'must be a phone number of 7 to 15 digits, optionally starting with +',
});

const ipAddress = required.refine((v) => isIP(v) !== 0, { message: 'must be an IPv4 or IPv6 address' });

const datetime = (zone: string) =>
  required.transform((v, ctx) => {
    const parsed = parseUdilDatetime(v, zone);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'must be a datetime yyyy-MM-dd HH:mm:ss' });
      return z.NEVER;
    }
    return parsed;
  });

/** toList, with the string-safety rule applied to what a JSON string inside a field held. */
function toSafeList(value: unknown, ctx: { addIssue(issue: { code: 'custom'; message: string }): void }) {
  const list = toList(value);
  const unsafe = findUnsafeField(list, '');
  if (!unsafe) return list;
  ctx.addIssue({ code: 'custom', message: `${unsafe.reason}${unsafe.field ? ` (at ${unsafe.field})` : ''}` });
  return z.NEVER;
}

const listOf = <T extends z.ZodType>(item: T, what: string, max: number) =>
  z.preprocess(
    toSafeList,
    z
      .array(item, { error: `must be a JSON array of ${what} (or a single value)` })
      .min(1, `must name at least one ${what}`)
      .max(max, `must name at most ${max} ${what}s`),
  );

/** MDM-assigned device ids: a set, de-duplicated, each at most 50 characters. */
export const MAX_DEVICES_PER_REQUEST = 200_000;
/**
 * Each id checked in one loop rather than by a schema per item (a request names up to 200 000): the
 * same rules and messages as `listOf(<a text of 1 to 50 characters>, 'global_device_id', MAX)`, the first
 * bad id reported at its index.
 */
const deviceIds = z.preprocess(
  toSafeList,
  z
    .array(z.unknown(), { error: 'must be a JSON array of global_device_id (or a single value)' })
    .transform((items, ctx) => {
      const ids = new Array<string>(items.length);
      for (let i = 0; i < items.length; i++) {
        const id = toText(items[i]);
        const problem =
          typeof id !== 'string'
            ? 'must be a list of device ids'
            : id.length === 0
              ? 'must not contain empty ids'
              : id.length > 50
                ? 'ids are at most 50 characters'
                : undefined;
        if (problem !== undefined) {
          ctx.addIssue({ code: 'custom', message: problem, path: [i] });
          return z.NEVER;
        }
        ids[i] = id as string;
      }
      if (ids.length === 0)
        ctx.addIssue({ code: 'custom', message: 'must name at least one global_device_id' });
      else if (ids.length > MAX_DEVICES_PER_REQUEST)
        ctx.addIssue({
          code: 'custom',
          message: `must name at most ${MAX_DEVICES_PER_REQUEST} global_device_ids`,
        });
      return [...new Set(ids)];
    }),
);

/** A time of day: HH:mm:ss, or HH:mm (completed with :00). */
const timeOfDayWithSeconds = required
  .refine((v) => /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/.test(v), { message: 'must be a time HH:mm:ss' })
  .transform((v) => (v.length === 5 ? `${v}:00` : v));

const dayMonth = required.refine(
  (v) => {
    const match = /^(\d\d)-(\d\d)$/.exec(v);
    if (!match) return false;
    const [day, month] = [Number(match[1]), Number(match[2])];
    return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(2024, month, 0)).getUTCDate();
  },
  { message: 'must be a date dd-MM' },
);

const profileName = required.refine((v) => v.length <= 32, { message: 'names are at most 32 characters' });

/** A list that may also be empty (or absent). */
const optionalListOf = <T extends z.ZodType>(item: T, what: string, max: number) =>
  z.preprocess(
    (v) => (v === undefined || toText(v) === '' ? [] : toList(v)),
    z
      .array(item, { error: `must be a JSON array of ${what}s` })
      .max(max, `must name at most ${max} ${what}s`),
  );

/** UDIL 3.2 update_time_of_use (§3.3.5, example 4.7): day, week, season and holiday profiles. */
function timeOfUseCalendar(base: Record<string, z.ZodType>, at: z.ZodType) {
  return z
    .object({
      ...base,
      activation_datetime: at,
      day_profile: listOf(
        z.object(
          {
            name: profileName,
            tariff_slabs: listOf(z.preprocess(toText, timeOfDay(false)), 'tariff slab (HH:mm)', 48),
          },
          { error: 'each day profile must be {"name":"…","tariff_slabs":["HH:mm",…]}' },
        ),
        'day profile',
        64,
      ),
      week_profile: listOf(
        z.object(
          { name: profileName, weekly_day_profile: listOf(profileName, 'day profile name', 7) },
          { error: 'each week profile must be {"name":"…","weekly_day_profile":[7 day profile names]}' },
        ),
        'week profile',
        64,
      ),
      season_profile: listOf(
        z.object(
          { name: profileName, week_profile_name: profileName, start_date: dayMonth },
          { error: 'each season profile must be {"name":"…","week_profile_name":"…","start_date":"dd-MM"}' },
        ),
        'season profile',
        64,
      ),
      holiday_profile: optionalListOf(
        z.object(
          { name: profileName, date: dayMonth, day_profile_name: profileName },
          { error: 'each holiday profile must be {"name":"…","date":"dd-MM","day_profile_name":"…"}' },
        ),
        'holiday profile',
        366,
      ),
    })
    .superRefine((p, ctx) => {
      const days = new Set(p.day_profile.map((d) => d.name));
      const weeks = new Set(p.week_profile.map((w) => w.name));
      p.day_profile.forEach((day, i) => {
        if (day.tariff_slabs.some((slab, j) => j > 0 && slab <= day.tariff_slabs[j - 1]))
          ctx.addIssue({
            code: 'custom',
            path: ['day_profile', i, 'tariff_slabs'],
            message: 'must be in ascending order',
          });
      });
      p.week_profile.forEach((week, i) => {
        if (week.weekly_day_profile.length !== 7)
          ctx.addIssue({
            code: 'custom',
            path: ['week_profile', i, 'weekly_day_profile'],
            message: 'must name 7 day profiles, Monday to Sunday',
          });
        const unknown = week.weekly_day_profile.find((name) => !days.has(name));
        if (unknown !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['week_profile', i, 'weekly_day_profile'],
            message: `names unknown day profile "${unknown}"`,
          });
      });
      p.season_profile.forEach((season, i) => {
        if (!weeks.has(season.week_profile_name))
          ctx.addIssue({
            code: 'custom',
            path: ['season_profile', i, 'week_profile_name'],
            message: `names unknown week profile "${season.week_profile_name}"`,
          });
      });
      p.holiday_profile.forEach((holiday, i) => {
        if (!days.has(holiday.day_profile_name))
          ctx.addIssue({
            code: 'custom',
            path: ['holiday_profile', i, 'day_profile_name'],
            message: `names unknown day profile "${holiday.day_profile_name}"`,
          });
      });
    });
}

const APMS_MEANING = 'an APMS type: OVFC, UVFC, OCFC, OLFC, VUFC, PFFC, CUFC or HAPF';

/** parameterization_cancellation's type: 3.2's codes, or the older APMS codes clients still send. */
const cancellationType = required.transform((v, ctx): CancellationType => {
  const upper = v.toUpperCase();
  const match = CANCELLATION_TYPES.find((t) => (t as string) === upper) ?? LEGACY_APMS_CODES[upper];
  if (match === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `must be SANC, LSCH, TIOU or ${APMS_MEANING} (older codes ${Object.keys(LEGACY_APMS_CODES).join(', ')} are accepted)`,
    });
    return z.NEVER;
  }
  return match;
});

export interface MajorAlarm {
  event_code: string;
  event_description: string;
}

/**
 * update_major_alarms' list (UDIL 3.3): numeric codes (`[101,102]`, `101,102`) or
 * `[{"event_code":"101","event_description":"…"}]`; 1 to 10 codes, each once.
 */
const majorAlarmsList = z.preprocess(
  (v) => {
    const text = toText(v);
    if (typeof text === 'string' && text !== '' && !text.startsWith('[') && !text.startsWith('{'))
      return text.split(',').map((part) => part.trim());
    return toList(v);
  },
  z
    .array(
      z.union(
        [
          z
            .preprocess(toText, z.string().regex(/^\d{1,6}$/))
            .transform((code): MajorAlarm => ({ event_code: String(Number(code)), event_description: '' })),
          z
            .object({
              event_code: z.preprocess(toText, z.string().regex(/^\d{1,6}$/)),
              event_description: z.preprocess(toText, z.string().max(255)).optional(),
            })
            .transform((alarm): MajorAlarm => ({
              event_code: String(Number(alarm.event_code)),
              event_description: alarm.event_description ?? '',
            })),
        ],
        { error: 'each alarm must be an event code (digits) or {"event_code":"…","event_description":"…"}' },
      ),
      { error: 'must be event codes ([101,102] or 101,102) or [{"event_code":"…","event_description":"…"}]' },
    )
    .min(1, 'must name at least one event code')
    .max(10, 'must name at most 10 event codes')
    .refine((list) => new Set(list.map((a) => a.event_code)).size === list.length, {
      message: 'must not name an event code twice',
    }),
);

/**
 * A field the spec calls a set but that has one value for the whole request (device_type): a set whose values
 * are all alike is that value; one of several values is refused naming the field.
 */
function oneValueOfSet(value: unknown, ctx: z.RefinementCtx): unknown {
  const text = toText(value);
  if (!Array.isArray(value) && !(typeof text === 'string' && text.startsWith('['))) return value;
  const list = toList(value);
  if (!Array.isArray(list) || list.length === 0) return value;
  const values = new Set(list.map((item) => toText(item)));
  if (values.size === 1) return list[0];
  ctx.addIssue({ code: 'custom', message: 'must be one type for every device of the request' });
  return z.NEVER;
}

/** The largest msn the registry holds (PostgreSQL bigint). */
const MAX_MSN = 9_223_372_036_854_775_807n;

/**
 * device_identity as a set: an entry repeated as it is counts once (like global_device_id); one global_device_id
 * with two dsns, or one dsn for two global_device_ids, is refused naming both.
 */
function oneEntryPerDevice(
  entries: { dsn: string; global_device_id: string }[],
  ctx: z.RefinementCtx,
): { dsn: string; global_device_id: string }[] {
  const dsnOf = new Map<string, string>();
  const idOf = new Map<string, string>();
  const kept: { dsn: string; global_device_id: string }[] = [];
  for (const entry of entries) {
    const dsn = dsnOf.get(entry.global_device_id);
    if (dsn === entry.dsn) continue;
    if (dsn !== undefined)
      ctx.addIssue({
        code: 'custom',
        message: `global_device_id ${entry.global_device_id} is listed twice, with dsn ${dsn} and ${entry.dsn}`,
      });
    else if (idOf.has(entry.dsn))
      ctx.addIssue({
        code: 'custom',
        message: `dsn ${entry.dsn} is listed for two devices, ${idOf.get(entry.dsn)} and ${entry.global_device_id}`,
      });
    else {
      dsnOf.set(entry.global_device_id, entry.dsn);
      idOf.set(entry.dsn, entry.global_device_id);
      kept.push(entry);
    }
  }
  return kept;
}

function commandSchemas(zone: string) {
  const at = datetime(zone);
  const base = { global_device_id: deviceIds, request_datetime: at };
  const binary = (meaning: string) => code(['0', '1'] as const, meaning).transform(Number);
  return {
    [UdilCommand.AuxRelayOperations]: z.object({
      ...base,
      relay_operate: binary('0 (disconnect) or 1 (connect)'),
    }),
    [UdilCommand.TimeSynchronization]: z.object(base),
    [UdilCommand.SanctionedLoadControl]: z.object({
      ...base,
      load_limit: decimal('a load limit in kW (a non-negative number)'),
      maximum_retries: integer(0, 1000, 'a number of retries from 0 to 1000'),
      retry_interval: integer(0, 86400, 'seconds from 0 to 86400'),
      threshold_duration: integer(0, 86400, 'seconds from 0 to 86400'),
      retry_clear_interval: integer(0, 604800, 'seconds from 0 to 604800'),
    }),
    [UdilCommand.LoadSheddingScheduling]: z
      .object({
        ...base,
        start_datetime: at,
        end_datetime: at,
        load_shedding_slabs: listOf(
          z.object(
            {
              action_time: timeOfDay(true),
              relay_operate: binary('0 (disconnect) or 1 (connect)'),
            },
            { error: 'each slab must be {"action_time":"HH:mm:ss","relay_operate":"0|1"}' },
          ),
          'slab',
          96,
        ),
      })
      .refine((p) => p.end_datetime > p.start_datetime, {
        path: ['end_datetime'],
        message: 'must be after start_datetime',
      }),
    [UdilCommand.TimeOfUseChange]: z.object({
      ...base,
      activation_datetime: at,
      season: required,
      days: required,
      time_slab: listOf(z.preprocess(toText, timeOfDay(false)), 'time slab (HH:mm)', 48),
      tariff_identification: integer(1, 4, 'a tariff number from 1 to 4'),
    }),
    [UdilCommand.DeviceCreation]: z.object({
      device_identity: listOf(
        z.object(
          {
            dsn: required.refine((v) => /^\d{1,19}$/.test(v) && BigInt(v) <= MAX_MSN, {
              message: `dsn must be a meter serial number (digits, at most ${MAX_MSN})`,
            }),
            global_device_id: required.refine((v) => v.length <= 50, {
              message: 'global_device_id is at most 50 characters',
            }),
          },
          { error: 'each device must be {"dsn":"…","global_device_id":"…"}' },
        ),
        'device',
        10_000,
      ).transform(oneEntryPerDevice),
      request_datetime: at,
      // UDIL 2019: 1 meter, 2 DCU, 3 other; UDIL 3.2 (§3.3.6) adds 3 APMS, 4 grid meter, 5 other. The spec
      // names it "Param(set)": a set of one type (["1"], or one per device, all alike) is that type.
      device_type: z.preprocess(
        oneValueOfSet,
        integer(1, 5, '1 (meter), 2 (DCU), 3 (APMS; other in 2019), 4 (grid meter) or 5 (other)'),
      ),
      communication_mode: integer(1, 5, '1 (GPRS/3G/4G), 2 (RF), 3 (PLC), 4 (Ethernet) or 5 (other)'),
      communication_type: integer(0, 2, '0 (always on), 1 (periodic-on) or 2 (on-demand)').optional(),
      communication_interval: integer(0, 1440, 'minutes from 0 to 1440'),
      sim_number: phoneNumber,
      sim_id: required.refine((v) => v.length <= 32, { message: 'must be at most 32 characters' }),
      mdi_reset_date: integer(1, 28, 'a day of the month from 1 to 28'),
      mdi_reset_time: timeOfDay(true),
      phase: integer(1, 3, '1 (single phase), 2 (other) or 3 (three phase)'),
      meter_type: integer(1, 5, '1 (normal), 2 (whole current), 3 (CTO), 4 (CTPT) or 5 (other)'),
      // UDIL 3.2 (§3.3.6, example 4.8); 2019 clients do not send them.
      bidirectional_device: z.preprocess(blankAsMissing, binary('0 (false) or 1 (true)').optional()),
      initial_communication_time: z.preprocess(blankAsMissing, timeOfDayWithSeconds.optional()),
    }),
    [UdilCommand.UpdateIpPort]: z.object({
      ...base,
      primary_ip_address: ipAddress,
      secondary_ip_address: ipAddress,
      primary_port: integer(1, 65535, 'a port from 1 to 65535'),
      secondary_port: integer(1, 65535, 'a port from 1 to 65535'),
    }),
    [UdilCommand.MeterDataSampling]: z.object({
      ...base,
      activation_datetime: at,
      data_type: code(['INST', 'BILL', 'LPRO'] as const, 'INST, BILL or LPRO'),
      sampling_interval: integer(1, 59, 'minutes from 1 to 59'),
      sampling_initial_time: integer(0, 59, 'a minute from 0 to 59'),
    }),
    [UdilCommand.ActivateMeterOpticalPort]: z
      .object({ ...base, optical_port_on_datetime: at, optical_port_off_datetime: at })
      .refine((p) => p.optical_port_off_datetime > p.optical_port_on_datetime, {
        path: ['optical_port_off_datetime'],
        message: 'must be after optical_port_on_datetime',
      }),
    [UdilCommand.WakeUpSimNumberUpdate]: z.object({
      ...base,
      wakeup_number_1: phoneNumber,
      // A form's empty field is a number not given (as device_creation's optional fields).
      wakeup_number_2: z.preprocess(blankAsMissing, phoneNumber.optional()),
      wakeup_number_3: z.preprocess(blankAsMissing, phoneNumber.optional()),
    }),
    [UdilCommand.MeterStatusUpdate]: z.object({
      ...base,
      meter_activation_status: binary('1 (active) or 0 (inactive)'),
    }),
    [UdilCommand.UpdateDeviceMetadata]: z.object({
      ...base,
      communication_mode: integer(1, 5, '1 (GPRS/3G/4G), 2 (RF), 3 (PLC), 4 (Ethernet) or 5 (other)'),
      bidirectional_device: binary('0 (false) or 1 (true)'),
      communication_type: integer(1, 2, '1 (Mode-I, non keep-alive) or 2 (Mode-II, keep-alive)'),
      initial_communication_time: timeOfDayWithSeconds,
      communication_interval: integer(0, 1440, 'minutes from 0 to 1440'),
      phase: integer(1, 3, '1 (single), 2 (other) or 3 (three phase)'),
      meter_type: integer(1, 5, '1 (normal), 2 (whole current), 3 (CTO), 4 (CTPT) or 5 (other)'),
    }),
    [UdilCommand.UpdateMdiResetDate]: z.object({
      ...base,
      mdi_reset_date: integer(1, 28, 'a day of the month from 1 to 28'),
      mdi_reset_time: timeOfDayWithSeconds,
    }),
    [UdilCommand.ApmsTrippingEvents]: z.object({
      ...base,
      type: code(Object.values(ApmsType), APMS_MEANING),
      critical_event_threshold_limit: decimal('a threshold (a non-negative number)'),
      critical_event_log_time: integer(0, 86400, 'seconds from 0 to 86400'),
      tripping_event_threshold_limit: decimal('a threshold (a non-negative number)'),
      tripping_event_log_time: integer(0, 86400, 'seconds from 0 to 86400'),
      enable_tripping: binary('0 (disable) or 1 (enable)'),
    }),
    [UdilCommand.ParameterizationCancellation]: z.object({
      global_device_id: deviceIds,
      // 3.2 lists no request_datetime for this service; clients that send one get it checked.
      request_datetime: z.preprocess(blankAsMissing, at.optional()),
      type: cancellationType,
    }),
    [UdilCommand.UpdateMajorAlarms]: z.object({ ...base, major_alarms_list: majorAlarmsList }),
  } as const;
}

/** Services whose 3.x parameters differ from their 2019 namesake's: their 3.x schema. */
function generation3Schemas(zone: string) {
  const at = datetime(zone);
  return {
    update_time_of_use: timeOfUseCalendar({ global_device_id: deviceIds, request_datetime: at }, at),
  } as const;
}

type CommandSchemas = ReturnType<typeof commandSchemas> & ReturnType<typeof generation3Schemas>;
export type CommandParameters<C extends UdilCommand> = z.output<CommandSchemas[C]>;

const schemasByZone = new Map<string, CommandSchemas>();

function describeIssues(error: z.ZodError, fields: RawFields): string {
  const messages: string[] = [];
  for (const issue of error.issues) {
    const [field, ...rest] = issue.path.map(String);
    const name = field ?? '(body)';
    const missing = issue.code === 'invalid_type' && fields[name] === undefined;
    const where = name + rest.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('');
    const message = `${where}: ${missing ? 'is required' : issue.message}`;
    if (!messages.some((m) => m.startsWith(`${name}:`) || m.startsWith(`${name}[`))) messages.push(message);
  }
  return messages.join('; ');
}

/**
 * Validates the parameters of one write command, requested by `service` (its 2019 or 3.x name, which
 * picks the form where the generations differ); a 400 naming every bad field otherwise.
 */
export function parseCommandParameters<C extends UdilCommand>(
  command: C,
  fields: RawFields,
  zone: string,
  transactionid?: string,
  service: string = command,
): CommandParameters<C> {
  let schemas = schemasByZone.get(zone);
  if (!schemas) {
    schemas = { ...commandSchemas(zone), ...generation3Schemas(zone) };
    schemasByZone.set(zone, schemas);
  }
  const schema = service in schemas ? schemas[service as keyof CommandSchemas] : schemas[command];
  const result = (schema as z.ZodType).safeParse(fields);
  if (!result.success) throw new UdilRequestError(400, describeIssues(result.error, fields), transactionid);
  return result.data as CommandParameters<C>;
}

/** The transactionid header: 1 to 64 visible characters. */
export function parseTransactionId(value: unknown): string {
  const text = toText(Array.isArray(value) ? value[0] : value);
  if (typeof text !== 'string' || text === '')
    throw UdilRequestError.invalid('transactionid', 'header is required');
  if (text.length > 64 || !/^[\x21-\x7e]+$/.test(text)) {
    throw UdilRequestError.invalid('transactionid', 'must be 1 to 64 visible ASCII characters');
  }
  return text;
}

/** A set of transactionids (transaction_status accepts several in the body). */
export function parseTransactionIds(value: unknown): string[] {
  const list = toList(value);
  if (!Array.isArray(list) || list.length === 0) {
    throw UdilRequestError.invalid('transactionid', 'must be a transaction id or a JSON array of them');
  }
  return [...new Set(list.map((item) => parseTransactionId(item)))];
}

/** The global_device_id set of transaction_cancel. */
export function parseDeviceIds(value: unknown, transactionid?: string): string[] {
  const fields = { global_device_id: value };
  const result = z.object({ global_device_id: deviceIds }).safeParse(fields);
  if (!result.success) throw new UdilRequestError(400, describeIssues(result.error, fields), transactionid);
  return result.data.global_device_id;
}

/** Types whose data is a range in time: their start and end datetimes are required. */
export const RANGED_ON_DEMAND_TYPES: ReadonlySet<OnDemandType> = new Set([
  OnDemandType.MonthlyBilling,
  OnDemandType.LoadProfile,
  OnDemandType.Events,
]);

export interface OnDemandParameters {
  global_device_id: string[];
  type: OnDemandType;
  start_datetime?: Date;
  end_datetime?: Date;
  /** LPRO: the load-profile channel whose rows are answered (every channel is read and stored). */
  channel_id?: number;
}

/** A load-profile channel (UDIL 3.2 LOAD_PROFILE_DATA.channel_id); blank means every channel. */
const optionalChannel = z.preprocess(
  blankAsMissing,
  integer(0, 255, 'a load-profile channel number from 0 to 255').optional(),
);

/**
 * on_demand_request and on_demand_data_read: `types`, their ranges (required for the ranged types) and an
 * optional load-profile channel.
 */
function onDemandSchema(types: readonly OnDemandType[], zone: string) {
  // A type that takes no range ignores start/end_datetime, whatever they hold (§3.4.1: "For Type 'INST' MDC
  // will ignore value of 'start_datetime' & 'end_datetime'"): they are not checked, and not passed on.
  const withoutIgnoredRange = (fields: unknown): unknown => {
    if (typeof fields !== 'object' || fields === null) return fields;
    const { start_datetime: _start, end_datetime: _end, ...rest } = fields as Record<string, unknown>;
    const text = toText(rest.type);
    const type =
      typeof text === 'string' ? types.find((t) => t.toUpperCase() === text.toUpperCase()) : undefined;
    return type === undefined || RANGED_ON_DEMAND_TYPES.has(type) ? fields : rest;
  };
  return z.preprocess(
    withoutIgnoredRange,
    z
      .object({
        global_device_id: deviceIds,
        type: code(types, types.join(', ').replace(/, (\w+)$/, ' or $1')),
        start_datetime: z.preprocess(blankAsMissing, datetime(zone).optional()),
        end_datetime: z.preprocess(blankAsMissing, datetime(zone).optional()),
        channel_id: optionalChannel,
      })
      .superRefine((p, ctx) => {
        if (!RANGED_ON_DEMAND_TYPES.has(p.type)) return;
        for (const field of ['start_datetime', 'end_datetime'] as const) {
          if (!p[field])
            ctx.addIssue({ code: 'custom', path: [field], message: `is required for type ${p.type}` });
        }
        if (p.start_datetime && p.end_datetime && p.end_datetime <= p.start_datetime) {
          ctx.addIssue({ code: 'custom', path: ['end_datetime'], message: 'must be after start_datetime' });
        }
      }),
  );
}

/** on_demand_request (§3.5.1): type INST, BILL, MBIL, LPRO, EVNT or VISL; INST and VISL take no range. */
export function parseOnDemandParameters(
  fields: RawFields,
  zone: string,
  transactionid?: string,
): OnDemandParameters {
  const result = onDemandSchema(Object.values(OnDemandType), zone).safeParse(fields);
  if (!result.success) throw new UdilRequestError(400, describeIssues(result.error, fields), transactionid);
  const { channel_id, ...parameters } = result.data;
  // A channel selects load-profile rows; other types have none (the field is ignored, like any unknown one).
  return parameters.type === OnDemandType.LoadProfile && channel_id !== undefined
    ? { ...parameters, channel_id }
    : parameters;
}

/** The types of on_demand_data_read (UDIL 3.2 §3.4.1). */
export const DATA_READ_TYPES: readonly OnDemandType[] = [
  OnDemandType.Instantaneous,
  OnDemandType.Billing,
  OnDemandType.MonthlyBilling,
  OnDemandType.LoadProfile,
  OnDemandType.Events,
];

/**
 * on_demand_data_read (UDIL 3.2 §3.4.1): one global_device_id (plain or a JSON array of one), type INST,
 * BILL, MBIL, LPRO or EVNT in any case, start/end_datetime (ignored for INST and BILL, which read the meter's
 * present values), and for LPRO an optional channel_id.
 */
export function parseOnDemandDataReadParameters(
  fields: RawFields,
  zone: string,
  transactionid?: string,
): OnDemandParameters {
  const result = onDemandSchema(DATA_READ_TYPES, zone)
    .superRefine((p, ctx) => {
      if (p.global_device_id.length > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['global_device_id'],
          message: 'must be one device id (only one is allowed)',
        });
    })
    .safeParse(fields);
  if (!result.success) throw new UdilRequestError(400, describeIssues(result.error, fields), transactionid);
  const { channel_id, ...parameters } = result.data;
  return parameters.type === OnDemandType.LoadProfile && channel_id !== undefined
    ? { ...parameters, channel_id }
    : parameters;
}

export interface TableReadParameters {
  global_device_id: string[];
  start_datetime?: Date;
  end_datetime?: Date;
  /** LOAD_PROFILE_DATA only: one channel's rows. */
  channel_id?: number;
  page: number;
  page_size: number;
}

/** The schema of {@link parseTableReadParameters}. */
function tableReadSchema(
  zone: string,
  options: { rangeRequired: boolean; maxPageSize: number; channels?: boolean },
) {
  const optionalInteger = (min: number, max: number, meaning: string, fallback: number) =>
    z.preprocess(
      (v) => (v === undefined || toText(v) === '' ? String(fallback) : v),
      integer(min, max, meaning),
    );
  const range = datetime(zone);
  return z
    .object({
      global_device_id: deviceIds,
      start_datetime: options.rangeRequired ? range : z.preprocess(blankAsMissing, range.optional()),
      end_datetime: options.rangeRequired ? range : z.preprocess(blankAsMissing, range.optional()),
      page: optionalInteger(1, 1_000_000, 'a page number from 1', 1),
      page_size: optionalInteger(
        1,
        options.maxPageSize,
        `a page size from 1 to ${options.maxPageSize}`,
        Math.min(1000, options.maxPageSize),
      ),
      // Only a table with channels reads the field; elsewhere it is an unknown field, ignored.
      channel_id: options.channels
        ? optionalChannel
        : z
            .unknown()
            .optional()
            .transform(() => undefined),
    })
    .refine((p) => !p.start_datetime || !p.end_datetime || p.end_datetime >= p.start_datetime, {
      path: ['end_datetime'],
      message: 'must not be before start_datetime',
    });
}

/** Schemas of {@link parseTableReadParameters} by zone and options (a process has one zone and few options). */
const tableReadSchemas = new Map<string, ReturnType<typeof tableReadSchema>>();

/**
 * API reads (§3.3): a device set and a datetime range, answered a page at a time (page from 1,
 * page_size up to `maxPageSize`) so that a large range cannot exhaust memory.
 */
export function parseTableReadParameters(
  fields: RawFields,
  zone: string,
  options: { rangeRequired: boolean; maxPageSize: number; channels?: boolean },
): TableReadParameters {
  // One schema per zone and options, built once (building it cost more than parsing with it).
  const key = `${zone} ${options.rangeRequired} ${options.maxPageSize} ${options.channels === true}`;
  let schema = tableReadSchemas.get(key);
  if (!schema) {
    schema = tableReadSchema(zone, options);
    tableReadSchemas.set(key, schema);
  }
  const result = schema.safeParse(fields);
  if (!result.success) throw new UdilRequestError(400, describeIssues(result.error, fields));
  return result.data;
}
