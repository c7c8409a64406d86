/**
 * Summarises a V8 .cpuprofile (from `--cpu-prof`): self time by function and by package/file, top entries.
 *
 *   node dist/bench/bench/profile-summary.js <file.cpuprofile> [top] [--callers <function> [depth]]
 *
 * `--callers writev 8`: the self time of the functions of that name, by the chain of their `depth` nearest
 * callers (which code pays for a system call, say).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string): string {
  if (!url) return '(native/idle)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 6) : url;
}

function main(): void {
  const [file, topText] = process.argv.slice(2);
  const top = Number(topText ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const fn = `${frame.functionName || '(anonymous)'} ${area(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byArea.set(area(frame.url), (byArea.get(area(frame.url)) ?? 0) + us);
  }
  const show = (title: string, map: Map<string, number>) => {
    console.log(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)`);
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .forEach(([name, us]) => console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`));
  };
  show('Self time by package / file', byArea);
  show('Self time by function', byFunction);
  const callersAt = process.argv.indexOf('--callers');
  if (callersAt > 0) {
    const name = process.argv[callersAt + 1];
    const depth = Number(process.argv[callersAt + 2] ?? 6);
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
    const chains = new Map<string, number>();
    for (const [id, us] of self) {
      if (byId.get(id)!.callFrame.functionName !== name) continue;
      const chain: string[] = [];
      for (let at = parentOf.get(id); at !== undefined && chain.length < depth; at = parentOf.get(at)) {
        const frame = byId.get(at)!.callFrame;
        chain.push(`${frame.functionName || '(anonymous)'} ${area(frame.url)}:${frame.lineNumber + 1}`);
      }
      const key = chain.join(' < ');
      chains.set(key, (chains.get(key) ?? 0) + us);
    }
    show(`Self time of ${name} by its ${depth} nearest callers`, chains);
  }
}

main();
