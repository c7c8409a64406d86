import { UdilCommand } from '@hes/udil';

/** The `message` of each command's answer, worded after the spec's examples (chapter 4). */
export const COMMAND_MESSAGES: Record<UdilCommand, string> = {
  [UdilCommand.AuxRelayOperations]: 'Relay will be operated for meters with indv_status 1',
  [UdilCommand.TimeSynchronization]:
    'Time will be updated for meters with indv_status 1 according to system time',
  [UdilCommand.SanctionedLoadControl]: 'Limits will be changed for meters with indv_status 1',
  [UdilCommand.LoadSheddingScheduling]:
    'Load Shedding Schedule will be programmed in meters with indv_status 1',
  [UdilCommand.TimeOfUseChange]: 'Tariff will be applied to meters with indv_status 1',
  [UdilCommand.DeviceCreation]: 'Meters with indv_status 1 will be created',
  [UdilCommand.UpdateIpPort]: 'IP addresses and ports will be updated in meters with indv_status 1',
  [UdilCommand.MeterDataSampling]: 'Sampling interval will be changed in meters with indv_status 1',
  [UdilCommand.ActivateMeterOpticalPort]: 'Optical port will be activated for meters with indv_status 1',
  [UdilCommand.WakeUpSimNumberUpdate]: 'Wakeup numbers will be updated for meters with indv_status 1',
  [UdilCommand.MeterStatusUpdate]: 'Meter status will be updated for meters with indv_status 1',
  [UdilCommand.UpdateDeviceMetadata]: 'Device metadata will be updated for meters with indv_status 1',
  [UdilCommand.UpdateMdiResetDate]: 'MDI reset date will be updated in meters with indv_status 1',
  [UdilCommand.ApmsTrippingEvents]: 'Tripping function will be applied on devices with indv_status 1',
  [UdilCommand.ParameterizationCancellation]:
    'Programmed parameters will be put back to their defaults on devices with indv_status 1',
  [UdilCommand.UpdateMajorAlarms]: 'Major alarms will be updated for meters with indv_status 1',
};

export function commandMessage(command: UdilCommand, accepted: number): string {
  return accepted > 0 ? COMMAND_MESSAGES[command] : 'No device was accepted: see the remarks of each device';
}
