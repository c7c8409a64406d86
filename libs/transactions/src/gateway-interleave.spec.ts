import { interleaveByGateway } from './gateway-interleave';

describe('interleaveByGateway', () => {
  it('takes one device of each gateway in turn, keeping request order within a gateway', () => {
    const devices = ['a1', 'a2', 'a3', 'b1', 'b2', 'c1', 'x1', 'x2'];
    const gatewayOf = (id: string) => (id.startsWith('x') ? null : id[0]);
    expect(interleaveByGateway(devices, gatewayOf)).toEqual(['a1', 'b1', 'c1', 'x1', 'a2', 'b2', 'x2', 'a3']);
  });

  it('keeps every device exactly once, whatever the spread', () => {
    const devices = Array.from({ length: 1000 }, (_, i) => ({ id: i, gateway: `g${(i * 7) % 13}` }));
    const ordered = interleaveByGateway(devices, (d) => d.gateway);
    expect(ordered.map((d) => d.id).sort((a, b) => a - b)).toEqual(devices.map((d) => d.id));
    // the first 13 jobs reach 13 different gateways
    expect(new Set(ordered.slice(0, 13).map((d) => d.gateway)).size).toBe(13);
  });

  it('answers nothing for nothing', () => {
    expect(interleaveByGateway([], () => 'g')).toEqual([]);
  });
});
