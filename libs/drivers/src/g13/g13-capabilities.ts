import { DriverCapabilities, OnDemandType, UdilCommand } from '../driver.contract';

/**
 * What the ABB G13 driver does with every UDIL command and on-demand type. Unsupported entries are
 * refused per device by DriverRegistry.assertCommand / assertOnDemand (UnsupportedOperationError,
 * remark "ABB_G13 driver does not support <operation>") before any request reaches the gateway.
 */
export interface G13CapabilityEntry {
  supported: boolean;
  /** How it is carried out, or why it is not. */
  remark: string;
}

export const G13_COMMAND_TABLE: Readonly<Record<UdilCommand, G13CapabilityEntry>> = {
  [UdilCommand.AuxRelayOperations]: {
    supported: true,
    remark:
      'POST /meters/<serial>/io: currentstate of the supply output port (communication output), read back by GET /io',
  },
  [UdilCommand.TimeSynchronization]: { supported: true, remark: 'POST /meters/<serial>/datetime' },
  [UdilCommand.SanctionedLoadControl]: {
    supported: true,
    remark:
      'alarm on ACTIVE_POWER_TOTAL (quantity 96) driving an alarm output: POST /io/configuration, POST /alarms/configuration, read back; maximum_retries and retry_clear_interval have no G13 equivalent',
  },
  [UdilCommand.LoadSheddingScheduling]: {
    supported: false,
    remark:
      'not available on the G13: it only offers output actions inside tariff day profiles, which would overwrite the TOU calendar',
  },
  [UdilCommand.TimeOfUseChange]: {
    supported: true,
    remark:
      'POST /tariff/dayprofiles, /weekprofiles, /seasonprofiles, /specialdayprofiles, then tariff source clock; applied immediately (no passive calendar)',
  },
  [UdilCommand.DeviceCreation]: {
    supported: true,
    remark: 'PUT /meters registers the meter with its gateway',
  },
  [UdilCommand.UpdateIpPort]: {
    supported: false,
    remark: 'meters behind a G13 have no IP/port of their own; the gateway address is head-end configuration',
  },
  [UdilCommand.MeterDataSampling]: {
    supported: true,
    remark:
      'LPRO: POST /loadprofiles/configuration intervals; BILL: POST /previousvalues/configuration daily/weekly/monthly; INST refused (read on demand only)',
  },
  [UdilCommand.ActivateMeterOpticalPort]: {
    supported: false,
    remark: 'the G13 JSON API has no optical-port control',
  },
  [UdilCommand.WakeUpSimNumberUpdate]: {
    supported: false,
    remark: 'G13 meters have no SIM; the gateway is always reachable over Ethernet',
  },
  [UdilCommand.MeterStatusUpdate]: {
    supported: false,
    remark: 'activation status is head-end state; the G13 has no corresponding meter setting',
  },
};

export const G13_ON_DEMAND_TABLE: Readonly<Record<OnDemandType, G13CapabilityEntry>> = {
  [OnDemandType.Instantaneous]: { supported: true, remark: 'GET /datetime, /instrument, /power, /tariff' },
  [OnDemandType.Billing]: { supported: true, remark: 'GET /datetime, /energy/active, /energy/reactive' },
  [OnDemandType.MonthlyBilling]: {
    supported: true,
    remark:
      'GET /previousvalues/<from>/<to> (100 snapshots per request), then /demand/configuration and /demand/<from>/<to> for the maximum demand',
  },
  [OnDemandType.LoadProfile]: {
    supported: true,
    remark: 'GET /loadprofiles/configuration, then /loadprofiles/<channel>/<from>/<to> per mapped channel',
  },
  [OnDemandType.Events]: {
    supported: true,
    remark: 'GET /alarms/configuration, then /events/<to>/100 paged back to <from>',
  },
  [OnDemandType.Visuals]: {
    supported: false,
    remark: 'meter visuals are compiled by the head-end from the other reads',
  },
};

export const G13_CAPABILITIES: DriverCapabilities = {
  udilCommands: (Object.keys(G13_COMMAND_TABLE) as UdilCommand[]).filter(
    (c) => G13_COMMAND_TABLE[c].supported,
  ),
  onDemandTypes: (Object.keys(G13_ON_DEMAND_TABLE) as OnDemandType[]).filter(
    (t) => G13_ON_DEMAND_TABLE[t].supported,
  ),
  sensors: false,
};
