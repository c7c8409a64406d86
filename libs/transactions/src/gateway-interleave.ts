/**
 * Orders a transaction's devices so that consecutive ones sit behind different gateways: the first
 * device of every gateway, then the second of every gateway, and so on (gateways in order of first
 * appearance, devices in request order within a gateway). Jobs are taken from the queue in this order,
 * so a worker running N jobs at once keeps up to N gateways busy instead of queueing them all behind
 * the few gateways of the first devices in the request (each gateway admits only a few requests at a
 * time). Devices without a gateway count as one group.
 */
export function interleaveByGateway<T>(devices: readonly T[], gatewayOf: (device: T) => string | null): T[] {
  const groups = new Map<string | null, T[]>();
  for (const device of devices) {
    const gateway = gatewayOf(device);
    const group = groups.get(gateway);
    if (group) group.push(device);
    else groups.set(gateway, [device]);
  }
  const ordered: T[] = [];
  const lists = [...groups.values()];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let round = 0; round < longest; round += 1)
    for (const list of lists) if (round < list.length) ordered.push(list[round]);
  return ordered;
}
