import {
  buildExtractQuery,
  formatExtractTime,
  parseExtract,
  parseExtractTime,
  splitCsvLine,
} from './iserver2-extract';
import { IServer2ProtocolError } from './iserver2-messages';

describe('iServer 2 CGI extract', () => {
  it('builds the query of the guide example (4.1.2)', () => {
    const query = buildExtractQuery({ from: new Date(1735847516 * 1000), to: new Date(1736452316 * 1000) }, [
      { key: 'p1ch0', header: 'Device_31312FD1-Temperature' },
      { key: 'p1ch1', header: 'Device_31312FD1-Humidity' },
      { key: 'p1ch2', header: 'Device_31312FD1-Barometer' },
      { key: 'p2ch0', header: 'Device_10342FD1-Humidex' },
      { key: 'p2ch1', header: 'Device_10342FD1-Dewpoint' },
      { key: 'p2ch2', header: 'Device_10342FD1-Temperature' },
      { key: 'p2ch3', header: 'Device_10342FD1-Humidity' },
      { key: 'relay1', header: 'Relay1' },
      { key: 'relay2', header: 'Relay2' },
      { key: 'contact1', header: 'Digital Input 1' },
      { key: 'contact2', header: 'Digital Input 2' },
      { key: 'contactout', header: 'Contact_Out' },
    ]);
    expect(query).toBe(
      'startTime=1735847516&endTime=1736452316&p1ch0=Device_31312FD1-Temperature&p1ch1=Device_31312FD1-Humidity' +
        '&p1ch2=Device_31312FD1-Barometer&p2ch0=Device_10342FD1-Humidex&p2ch1=Device_10342FD1-Dewpoint' +
        '&p2ch2=Device_10342FD1-Temperature&p2ch3=Device_10342FD1-Humidity&relay1=Relay1&relay2=Relay2' +
        '&contact1=Digital%20Input%201&contact2=Digital%20Input%202&contactout=Contact_Out',
    );
  });

  it('refuses columns the unit does not have', () => {
    const range = { from: new Date(0), to: new Date(1000) };
    expect(() => buildExtractQuery(range, [{ key: 'p3ch0', header: 'x' }])).toThrow(RangeError);
    expect(() => buildExtractQuery(range, [{ key: 'p0ch2', header: 'x' }])).toThrow(RangeError);
  });

  it('reads rows by requested header, empty cells as missing samples', () => {
    const csv =
      'Time,"Probe, 1-Temperature",Relay1\r\n2025-01-02 20:00:00,23.4,0\r\n2025-01-02 20:00:05,,1\r\n';
    const rows = parseExtract(csv, [
      { key: 'relay1', header: 'Relay1' },
      { key: 'p1ch0', header: 'Probe, 1-Temperature' },
    ]);
    expect(rows).toEqual([
      { time: new Date('2025-01-02T20:00:00Z'), values: { relay1: 0, p1ch0: 23.4 } },
      { time: new Date('2025-01-02T20:00:05Z'), values: { relay1: 1, p1ch0: null } },
    ]);
  });

  it('fails on a missing column, a ragged row or a bad value', () => {
    const columns = [{ key: 'p1ch0', header: 'p1ch0' }];
    expect(() => parseExtract('Time,p1ch1\n', columns)).toThrow(IServer2ProtocolError);
    expect(() => parseExtract('Time,p1ch0\n2025-01-02 20:00:00\n', columns)).toThrow(/cells/);
    expect(() => parseExtract('Time,p1ch0\n2025-01-02 20:00:00,abc\n', columns)).toThrow(/abc/);
    expect(() => parseExtract('', columns)).toThrow(/empty/);
  });

  it('reads the time formats it may meet', () => {
    expect(parseExtractTime('1736452316').toISOString()).toBe('2025-01-09T19:51:56.000Z');
    expect(parseExtractTime('2025-01-09 19:51:56').toISOString()).toBe('2025-01-09T19:51:56.000Z');
    expect(parseExtractTime('2025-01-09T19:51:56+01:00').toISOString()).toBe('2025-01-09T18:51:56.000Z');
    // A time without offset is in the unit's clock zone (the gateway's clockTimeZone).
    expect(parseExtractTime('2025-01-09 19:51:56', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-09T14:21:56.000Z',
    );
    expect(parseExtractTime('2025-01-09T19:51:56+01:00', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-09T18:51:56.000Z',
    );
    expect(formatExtractTime(new Date('2025-01-09T14:21:56Z'), 'Asia/Kolkata')).toBe('2025-01-09 19:51:56');
    expect(() => parseExtractTime('yesterday')).toThrow(IServer2ProtocolError);
    expect(formatExtractTime(new Date('2025-01-09T19:51:56.700Z'))).toBe('2025-01-09 19:51:56');
  });

  it('splits quoted CSV cells', () => {
    expect(splitCsvLine('a,"b,c","d ""e"""')).toEqual(['a', 'b,c', 'd "e"']);
  });
});
