import { isPlainRead } from './admin-transaction';

describe('isPlainRead', () => {
  it('lets plain reads run before the first write, outside the request transaction', () => {
    expect(isPlainRead('SELECT * FROM public.gateways WHERE id = $1')).toBe(true);
    expect(isPlainRead('  select count(*) from x')).toBe(true);
    expect(isPlainRead('SHOW server_version')).toBe(true);
  });

  it('sends writes, locks and CTEs into the transaction', () => {
    expect(isPlainRead('INSERT INTO public.devices VALUES ($1)')).toBe(false);
    expect(isPlainRead('UPDATE public.devices SET msn = 1')).toBe(false);
    expect(isPlainRead('WITH moved AS (DELETE FROM t RETURNING *) SELECT * FROM moved')).toBe(false);
    expect(isPlainRead('SELECT * FROM public.devices WHERE id = $1 FOR UPDATE')).toBe(false);
    expect(isPlainRead('SELECT pg_advisory_xact_lock(1)')).toBe(false);
    expect(isPlainRead("SELECT nextval('s')")).toBe(false);
  });
});
