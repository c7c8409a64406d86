import {
  buildExtractQuery,
  formatExtractTime,
  parseExtract,
  parseExtractTime,
  readExtract,
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

  describe('tolerates the variants a unit may send (the answer format is our guess)', () => {
    const columns = [
      { key: 'p1ch0', header: 'Temperature' },
      { key: 'p1ch1', header: 'Humidity' },
    ];
    const expected = [
      { time: new Date('2025-01-02T20:00:00Z'), values: { p1ch0: 23.4, p1ch1: 45 } },
      { time: new Date('2025-01-02T20:00:05Z'), values: { p1ch0: 23.5, p1ch1: 46.1 } },
    ];
    const cases: [string, string][] = [
      [
        'header, comma, CRLF',
        'Time,Temperature,Humidity\r\n2025-01-02 20:00:00,23.4,45\r\n2025-01-02 20:00:05,23.5,46.1\r\n',
      ],
      [
        'LF, no final line end',
        'Time,Temperature,Humidity\n2025-01-02 20:00:00,23.4,45\n2025-01-02 20:00:05,23.5,46.1',
      ],
      [
        'CR line ends',
        'Time,Temperature,Humidity\r2025-01-02 20:00:00,23.4,45\r2025-01-02 20:00:05,23.5,46.1\r',
      ],
      [
        'byte-order mark and blank lines',
        '\uFEFFTime,Temperature,Humidity\n\n2025-01-02 20:00:00,23.4,45\n \n2025-01-02 20:00:05,23.5,46.1\n\n',
      ],
      ['no header: columns in request order', '2025-01-02 20:00:00,23.4,45\n2025-01-02 20:00:05,23.5,46.1\n'],
      [
        'columns in another order, header case and spaces',
        'TIMESTAMP , humidity , TEMPERATURE\n2025-01-02 20:00:00,45,23.4\n2025-01-02 20:00:05,46.1,23.5\n',
      ],
      [
        'every cell quoted',
        '"Date Time","Temperature","Humidity"\n"2025-01-02 20:00:00","23.4","45"\n"2025-01-02 20:00:05","23.5","46.1"\n',
      ],
      [
        'semicolons with decimal commas',
        'Time;Temperature;Humidity\n2025-01-02 20:00:00;23,4;45\n2025-01-02 20:00:05;23,5;46,1\n',
      ],
      [
        'tabs',
        'Time\tTemperature\tHumidity\n2025-01-02 20:00:00\t23.4\t45\n2025-01-02 20:00:05\t23.5\t46.1\n',
      ],
      [
        'date and time in two columns',
        'Date,Time,Temperature,Humidity\n2025-01-02,20:00:00,23.4,45\n2025-01-02,20:00:05,23.5,46.1\n',
      ],
      ['headerless date and time columns', '2025/01/02,20:00:00,23.4,45\n2025/01/02,20:00:05,23.5,46.1\n'],
      ['UTC seconds', 'Time,Temperature,Humidity\n1735848000,23.4,45\n1735848005,23.5,46.1\n'],
      ['UTC milliseconds', 'Time,Temperature,Humidity\n1735848000000,23.4,45\n1735848005000,23.5,46.1\n'],
      [
        'ISO 8601 with Z and with an offset',
        'Time,Temperature,Humidity\n2025-01-02T20:00:00Z,23.4,45\n2025-01-02T21:00:05+01:00,23.5,46.1\n',
      ],
      [
        'US date with AM/PM',
        'Time,Temperature,Humidity\n01/02/2025 08:00:00 PM,23.4,45\n1/2/2025 8:00:05 PM,23.5,46.1\n',
      ],
    ];
    it.each(cases)('%s', (_name, text) => {
      expect(parseExtract(text, columns)).toEqual(expected);
    });

    it('missing fields: short rows, no-sample markers and an absent column are no sample', () => {
      const table = readExtract(
        'Time,Temperature,Relay1\n2025-01-02 20:00:00,23.4\n2025-01-02 20:00:05,N/A,ON\n2025-01-02 20:00:10,-,off\n',
        [
          { key: 'p1ch0', header: 'Temperature' },
          { key: 'relay1', header: 'Relay1' },
          { key: 'p1ch1', header: 'Humidity' },
        ],
      );
      expect(table.missingColumns).toEqual(['p1ch1']);
      expect(table.rows.map((row) => row.values)).toEqual([
        { p1ch0: 23.4, relay1: null, p1ch1: null },
        { p1ch0: null, relay1: 1, p1ch1: null },
        { p1ch0: null, relay1: 0, p1ch1: null },
      ]);
    });

    it('an empty answer or a header alone is no rows', () => {
      expect(parseExtract('', columns)).toEqual([]);
      expect(parseExtract('Time,Temperature,Humidity\r\n', columns)).toEqual([]);
    });

    it('still refuses what cannot be read', () => {
      expect(() => parseExtract('Time,Other\n2025-01-02 20:00:00,1\n', columns)).toThrow(
        /none of the requested/,
      );
      expect(() => parseExtract('Time,Temperature\n2025-01-02 20:00:00,abc\n', columns)).toThrow(/abc/);
      expect(() => parseExtract('Time,Temperature\nyesterday,1\n', columns)).toThrow(IServer2ProtocolError);
    });
  });

  it('reads the time formats it may meet', () => {
    expect(parseExtractTime('1736452316').toISOString()).toBe('2025-01-09T19:51:56.000Z');
    expect(parseExtractTime('2025-01-09 19:51:56').toISOString()).toBe('2025-01-09T19:51:56.000Z');
    expect(parseExtractTime('2025-01-09T19:51:56+01:00').toISOString()).toBe('2025-01-09T18:51:56.000Z');
    // A time without offset is wall-clock time of the unit's clock zone; epoch and offsets are absolute.
    expect(parseExtractTime('2025-01-09 19:51:56', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-09T14:21:56.000Z',
    );
    expect(parseExtractTime('01/09/2025 07:51:56 PM', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-09T14:21:56.000Z',
    );
    expect(parseExtractTime('2025-01-09T19:51:56+01:00', 'Asia/Kolkata').toISOString()).toBe(
      '2025-01-09T18:51:56.000Z',
    );
    expect(parseExtractTime('1736452316', 'Asia/Kolkata').toISOString()).toBe('2025-01-09T19:51:56.000Z');
    expect(formatExtractTime(new Date('2025-01-09T14:21:56Z'), 'Asia/Kolkata')).toBe('2025-01-09 19:51:56');
    expect(
      parseExtract('Date,Time,T\n2025-01-09,19:51:56,1\n', [{ key: 'p1ch0', header: 'T' }], 'Asia/Kolkata')[0]
        .time,
    ).toEqual(new Date('2025-01-09T14:21:56Z'));
    expect(() => parseExtractTime('yesterday')).toThrow(IServer2ProtocolError);
    expect(formatExtractTime(new Date('2025-01-09T19:51:56.700Z'))).toBe('2025-01-09 19:51:56');
  });

  it('splits quoted CSV cells', () => {
    expect(splitCsvLine('a,"b,c","d ""e"""')).toEqual(['a', 'b,c', 'd "e"']);
    expect(splitCsvLine('a;"b;c";d', ';')).toEqual(['a', 'b;c', 'd']);
  });
});
