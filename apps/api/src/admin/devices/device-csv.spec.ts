import { parseDeviceCsv } from './device-csv';

const GATEWAY = '0b0c6f0e-8f5e-4f0c-9a43-54a5e6c7d001';

describe('parseDeviceCsv', () => {
  it('reads a header and rows into device fields, converting numbers and booleans, leaving empty cells out', () => {
    const csv =
      `\uFEFFglobalDeviceId,msn,gatewayId,serial,phase,bidirectionalDevice,simNumber\r\n` +
      `m8, 3100000008 ,${GATEWAY},ABB_8,3,true,\r\n` +
      `\r\n` +
      `"m,9",3100000009,${GATEWAY},"ABB ""9""",x,no,0300\n`;
    expect(parseDeviceCsv(csv)).toEqual([
      {
        line: 2,
        fields: {
          globalDeviceId: 'm8',
          msn: '3100000008',
          gatewayId: GATEWAY,
          serial: 'ABB_8',
          phase: 3,
          bidirectionalDevice: true,
        },
      },
      {
        line: 4,
        fields: {
          globalDeviceId: 'm,9',
          msn: '3100000009',
          gatewayId: GATEWAY,
          serial: 'ABB "9"',
          phase: 'x',
          bidirectionalDevice: false,
          simNumber: '0300',
        },
      },
    ]);
  });

  it.each([
    ['', /^csv: the document is empty/],
    [
      'globalDeviceId,msn,gatewayId,colour\nm1,1,x,red\n',
      /^csv: line 1, column 4 "colour" is not a device field; the columns are globalDeviceId, msn/,
    ],
    ['globalDeviceId,msn,msn,gatewayId\n', /^csv: line 1, column "msn" is named twice$/],
    [
      'globalDeviceId,serial\nm1,1\n',
      /^csv: the header \(line 1\) must name the column\(s\) msn, gatewayId$/,
    ],
    ['globalDeviceId,msn,gatewayId\nm1,1\n', /^csv: Invalid Record Length: expect 3, got 2 on line 2$/],
    ['globalDeviceId,msn,gatewayId\n"m1,1,x\n', /^csv: Quote Not Closed/],
  ])('refuses %j naming the line and column', (csv, message) => {
    expect(() => parseDeviceCsv(csv)).toThrow(message);
  });
});
