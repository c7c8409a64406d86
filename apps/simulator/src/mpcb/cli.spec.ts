import { Command } from 'commander';
import { MpcbCentralSimulatorHandle } from './mpcb-central-simulator';
import { parseSiteOption, registerMpcbCommand } from './cli';

describe('simulator mpcb CLI', () => {
  it('reads --site as siteId:key:version[:monitoring ids]', () => {
    const key = 'k'.repeat(32);
    expect(parseSiteOption(`site_1:${key}:ver_1.0:Stack1,Stack2`)).toEqual([
      { siteId: 'site_1', siteKey: key, softwareVersionId: 'ver_1.0', monitoringIds: ['Stack1', 'Stack2'] },
    ]);
    expect(parseSiteOption(`site_2:${key}:v2`, [])[0].monitoringIds).toBeUndefined();
    expect(() => parseSiteOption('site_1:short:v1')).toThrow(/at least 32/);
    expect(() => parseSiteOption('site_1')).toThrow(/siteId:key:softwareVersion/);
  });

  it('starts a simulator with the given sites', async () => {
    const program = new Command().exitOverride();
    let started: MpcbCentralSimulatorHandle | undefined;
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    registerMpcbCommand(program, { handleSignals: false, onStarted: (sim) => (started = sim) });
    await program.parseAsync([
      'node',
      'simulator',
      'mpcb',
      '--port',
      '0',
      '--site',
      `site_1:${'k'.repeat(32)}:v1`,
    ]);
    log.mockRestore();
    expect(started?.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mpcb$/);
    await started?.stop();
    const bare = new Command().exitOverride();
    registerMpcbCommand(bare, { handleSignals: false });
    await expect(bare.parseAsync(['node', 'simulator', 'mpcb', '--port', '0'])).rejects.toThrow(
      /at least one --site/,
    );
  });
});
