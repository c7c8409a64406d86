import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { G13Driver, IServer2Driver } from '@hes/drivers';
import { OnDemandType, UDIL_COMMANDS, UDIL_WRITE_SERVICES, UdilCommand, writeServiceNamed } from '@hes/udil';
import { readRefusalOf, refusalOf, transactionType } from './udil-command-plans';

describe('the UDIL service table', () => {
  it('names every command in both generations and resolves either name, in any case', () => {
    for (const command of Object.values(UdilCommand)) {
      const { names } = UDIL_COMMANDS[command];
      expect(names['3']).toBeDefined();
      for (const name of Object.values(names)) {
        expect(writeServiceNamed(name)?.command).toBe(command);
        expect(writeServiceNamed(transactionType(name))?.command).toBe(command);
      }
    }
    expect(writeServiceNamed('update_time_of_use')).toEqual({
      name: 'update_time_of_use',
      command: UdilCommand.TimeOfUseChange,
      generation: '3',
    });
    expect(writeServiceNamed('TIME_OF_USE_CHANGE')?.generation).toBe('2019');
    expect(writeServiceNamed('on_demand_request')).toBeUndefined();
    expect(new Set(UDIL_WRITE_SERVICES.map((s) => s.name)).size).toBe(UDIL_WRITE_SERVICES.length);
  });

  it('refuses per driver what its plan needs and the driver does not implement', () => {
    const g13 = new G13Driver();
    const iserver2 = new IServer2Driver();
    expect(refusalOf(UdilCommand.AuxRelayOperations, g13)).toBeUndefined();
    expect(refusalOf(UdilCommand.LoadSheddingScheduling, g13)).toBeUndefined();
    expect(refusalOf(UdilCommand.AuxRelayOperations, iserver2)).toBe(
      'OMEGA_ISERVER2 driver does not support aux_relay_operations: the iServer 2 is an environmental sensor gateway (temperature, humidity, pressure), not a meter; its alarm relays follow sensor alarms and are configured with relayTrigger',
    );
    expect(refusalOf(UdilCommand.LoadSheddingScheduling, iserver2)).toMatch(
      /^OMEGA_ISERVER2 driver supports neither load_shedding_scheduling nor the operateRelay the head-end would use for it: /,
    );
    expect(refusalOf(UdilCommand.MeterStatusUpdate, iserver2)).toBeUndefined();
    expect(readRefusalOf(OnDemandType.LoadProfile, g13)).toBeUndefined();
    expect(readRefusalOf(OnDemandType.Visuals, g13)).toBeUndefined();
    expect(readRefusalOf(OnDemandType.Billing, iserver2)).toMatch(
      /^OMEGA_ISERVER2 driver does not support on-demand BILL: .*there is no billing data$/,
    );
  });

  it('is the table docs/udil.md shows: every service name of both generations is there', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/udil.md'), 'utf8');
    for (const service of UDIL_WRITE_SERVICES) expect(doc).toContain(`| ${service.name}`);
  });

  it('refuses per variant: what the G13 cannot watch or reset, by the parameters of the request', () => {
    const g13 = new G13Driver();
    expect(refusalOf(UdilCommand.ApmsTrippingEvents, g13, { type: 'OVFC' })).toBeUndefined();
    expect(refusalOf(UdilCommand.ApmsTrippingEvents, g13, { type: 'PFFC' })).toMatch(
      /^ABB_G13 driver does not support apms_tripping_events type PFFC: phase failure needs 6 more alarms/,
    );
    expect(refusalOf(UdilCommand.ParameterizationCancellation, g13, { type: 'LSCH' })).toBeUndefined();
    expect(refusalOf(UdilCommand.ParameterizationCancellation, g13, { type: 'VUFC' })).toMatch(
      /no unbalance quantity/,
    );
    expect(
      refusalOf(UdilCommand.UpdateMdiResetDate, g13, { mdi_reset_date: 1, mdi_reset_time: '00:00:00' }),
    ).toBeUndefined();
    expect(
      refusalOf(UdilCommand.UpdateMdiResetDate, g13, { mdi_reset_date: 1, mdi_reset_time: '06:00:00' }),
    ).toMatch(/only day 1 at 00:00:00 can be set$/);
    const iserver2 = new IServer2Driver();
    expect(refusalOf(UdilCommand.ParameterizationCancellation, iserver2, { type: 'LSCH' })).toBeUndefined();
    expect(refusalOf(UdilCommand.UpdateMajorAlarms, iserver2)).toBeUndefined();
  });
});
