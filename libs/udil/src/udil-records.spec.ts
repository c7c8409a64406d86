import { GENERATION_ALIASES, UDIL_RECORD_KEYS, formatUdilRecord, withBothGenerations } from './udil-records';
import { UDIL_2019_FIELDS, UDIL_3_2_FIELDS } from './udil-spec-fields';

/** Counted by hand from the 3.2 text (§3.1.1–3.1.5, §3.4.3), without the tables' surrogate `id`. */
const UDIL_3_2_KEY_COUNTS = {
  instantaneous_data: 22,
  billing_data: 66,
  monthly_billing_data: 73,
  load_profile_data: 94,
  events: 9,
  transaction_status: 16,
};

describe('UDIL records', () => {
  it.each(Object.entries(UDIL_3_2_KEY_COUNTS))(
    '%s carries the %d keys of its UDIL 3.2 record',
    (record, count) => {
      const keys = UDIL_RECORD_KEYS[record as keyof typeof UDIL_3_2_KEY_COUNTS];
      const spec = UDIL_3_2_FIELDS[record].filter((field) => field !== 'id');
      expect(spec).toHaveLength(count);
      expect(keys.slice(0, count)).toEqual(spec);
      expect(keys).not.toContain('id');
      // And every UDIL 2019 name of the same record.
      expect(keys).toEqual(expect.arrayContaining(UDIL_2019_FIELDS[record]));
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  it('keys named in the compliance findings are there', () => {
    expect(UDIL_RECORD_KEYS.instantaneous_data).toEqual(
      expect.arrayContaining([
        'frequency',
        'current_tariff_register',
        'signal_strength',
        'mdc_read_datetime',
        'db_datetime',
        'is_synced',
      ]),
    );
    expect(UDIL_RECORD_KEYS.billing_data).toEqual(
      expect.arrayContaining([
        'active_mdi_pos_tl',
        'active_mdi_neg_tl',
        'cumulative_mdi_pos_tl',
        'cumulative_mdi_neg_tl',
      ]),
    );
    expect(UDIL_RECORD_KEYS.monthly_billing_data).toEqual(
      expect.arrayContaining(['mdi_reset_datetime', 'reset_count', 'longitude', 'latitude']),
    );
    expect(UDIL_RECORD_KEYS.load_profile_data).toEqual(
      expect.arrayContaining([
        'channel_id',
        'active_energy_tl',
        'reactive_energy_tl',
        'aggregate_active_pwr_pos',
        'average_pf',
      ]),
    );
  });

  it('a stored row becomes every key of its record: values as text, nothing as ""', () => {
    const item = formatUdilRecord(
      'events',
      {
        global_device_id: 'm1',
        msn: '3100001001',
        event_datetime: new Date(Date.UTC(2026, 10, 30, 7, 0, 5)),
        event_code: 111,
        event_counter: null,
        id: '17',
        unrelated: 'x',
      },
      'Asia/Karachi',
    );
    expect(item).toEqual({
      msn: '3100001001',
      global_device_id: 'm1',
      event_datetime: '2026-11-30 12:00:05',
      event_code: '111',
      event_counter: '',
      event_description: '',
      mdc_read_datetime: '',
      db_datetime: '',
      is_synced: '',
    });
  });

  it('both generations: each name of a pair fills the other, and a name given is never overwritten', () => {
    expect(
      withBothGenerations('load_profile_data', { active_energy_pos_tl: 5, reactive_energy_t1: 2 }),
    ).toEqual({
      active_energy_pos_tl: 5,
      active_energy_tl: 5,
      reactive_energy_t1: 2,
      reactive_energy_pos_t1: 2,
    });
    expect(
      withBothGenerations('load_profile_data', { active_energy_tl: 1, active_energy_pos_tl: 2 }),
    ).toEqual({
      active_energy_tl: 1,
      active_energy_pos_tl: 2,
    });
    expect(withBothGenerations('meter_visuals', { sanc_load_limit: '5' })).toEqual({
      sanc_load_limit: '5',
      meter_load_limit_set: '5',
    });
    const untouched = { voltage_phase_a: 230 };
    expect(withBothGenerations('load_profile_data', untouched)).toBe(untouched);
  });

  it('every pair names a 2019 column and a 3.2 column of its table', () => {
    for (const [table, pairs] of Object.entries(GENERATION_ALIASES)) {
      for (const [old, current] of pairs) {
        expect(UDIL_2019_FIELDS[table]).toContain(old);
        expect(UDIL_3_2_FIELDS[table]).toContain(current);
      }
    }
    expect(GENERATION_ALIASES.load_profile_data).toContainEqual(['active_energy_tl', 'active_energy_pos_tl']);
    expect(GENERATION_ALIASES.load_profile_data).toContainEqual([
      'cumulative_mdi_t3',
      'cumulative_mdi_pos_t3',
    ]);
  });
});
