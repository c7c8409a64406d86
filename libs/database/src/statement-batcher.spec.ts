import { BatchedStatement, StatementBatcher } from './statement-batcher';

interface Item {
  row: string;
  value: number;
}

/** A fake statement that records what was sent and answers when the test releases it. */
class RecordingStatement implements BatchedStatement<Item, string> {
  readonly sent: string[][] = [];
  failSets: false | string = false;
  failRow?: string;
  private releases: (() => void)[] = [];

  key = (item: Item) => item.row;
  maxItems = 3;
  maxInFlight = 2;

  async single(item: Item): Promise<string> {
    this.sent.push([`${item.row}=${item.value}`]);
    await this.held();
    if (item.row === this.failRow) throw new Error(`row ${item.row} failed`);
    return `single ${item.row}=${item.value}`;
  }

  async many(items: Item[]): Promise<string[]> {
    this.sent.push(items.map((i) => `${i.row}=${i.value}`));
    await this.held();
    if (this.failSets) throw new Error(this.failSets);
    return items.map((i) => `set ${i.row}=${i.value}`);
  }

  release(): void {
    const waiting = this.releases;
    this.releases = [];
    waiting.forEach((release) => release());
  }

  private held(): Promise<void> {
    return new Promise((resolve) => this.releases.push(resolve));
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function settle(statement: RecordingStatement, rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) {
    await turn();
    statement.release();
  }
}

describe('StatementBatcher', () => {
  it('sends a lone call by itself and groups the calls made while statements are in flight', async () => {
    const statement = new RecordingStatement();
    const batcher = new StatementBatcher(statement);
    const first = batcher.submit({ row: 'a', value: 1 });
    await turn();
    const second = batcher.submit({ row: 'b', value: 1 });
    await turn();
    // two statements in flight (the default): the next calls wait and go together
    const rest = ['c', 'd', 'e', 'f'].map((row) => batcher.submit({ row, value: 1 }));
    await settle(statement);
    expect(await Promise.all([first, second, ...rest])).toEqual([
      'single a=1',
      'single b=1',
      'set c=1',
      'set d=1',
      'set e=1',
      'single f=1',
    ]);
    expect(statement.sent).toEqual([['a=1'], ['b=1'], ['c=1', 'd=1', 'e=1'], ['f=1']]);
  });

  it('never puts two calls with the same key in one statement, and keeps their order', async () => {
    const statement = new RecordingStatement();
    statement.maxInFlight = 1;
    const batcher = new StatementBatcher(statement);
    const blocker = batcher.submit({ row: 'x', value: 0 });
    await turn();
    const calls = [
      batcher.submit({ row: 'a', value: 1 }),
      batcher.submit({ row: 'a', value: 2 }),
      batcher.submit({ row: 'b', value: 1 }),
    ];
    await settle(statement);
    await Promise.all([blocker, ...calls]);
    expect(statement.sent).toEqual([['x=0'], ['a=1', 'b=1'], ['a=2']]);
  });

  it('holds a call back while a statement with its key is still running, even with room in flight', async () => {
    const statement = new RecordingStatement();
    const batcher = new StatementBatcher(statement);
    const calls = [batcher.submit({ row: 'a', value: 1 }), batcher.submit({ row: 'a', value: 2 })];
    await turn();
    expect(statement.sent).toEqual([['a=1']]);
    await settle(statement);
    expect(await Promise.all(calls)).toEqual(['single a=1', 'single a=2']);
    expect(statement.sent).toEqual([['a=1'], ['a=2']]);
  });

  it('retries the rows of a failed set statement one by one, each caller getting its own answer or error', async () => {
    const statement = new RecordingStatement();
    statement.failSets = 'deadlock detected';
    statement.failRow = 'c';
    const batcher = new StatementBatcher(statement);
    const lone = [batcher.submit({ row: 'x', value: 0 })];
    await turn();
    lone.push(batcher.submit({ row: 'y', value: 0 }));
    await turn();
    const grouped = ['a', 'b', 'c'].map((row) => batcher.submit({ row, value: 1 }));
    const outcomes = Promise.allSettled([...lone, ...grouped]);
    await settle(statement);
    const results = await outcomes;
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'single x=0',
      'single y=0',
      'single a=1',
      'single b=1',
      'row c failed',
    ]);
    expect(statement.sent).toEqual([['x=0'], ['y=0'], ['a=1', 'b=1', 'c=1'], ['a=1'], ['b=1'], ['c=1']]);
  });

  it('does not retry the rows of a set statement whose outcome is unknown (connection lost, no answer in time)', async () => {
    const statement = new RecordingStatement();
    statement.failSets = 'Query read timeout';
    const batcher = new StatementBatcher(statement);
    const lone = [batcher.submit({ row: 'x', value: 0 })];
    await turn();
    lone.push(batcher.submit({ row: 'y', value: 0 }));
    await turn();
    const grouped = ['a', 'b', 'c'].map((row) => batcher.submit({ row, value: 1 }));
    const outcomes = Promise.allSettled([...lone, ...grouped]);
    await settle(statement);
    const results = await outcomes;
    // It may have been applied: a second statement per row could apply it twice.
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      'single x=0',
      'single y=0',
      'Query read timeout',
      'Query read timeout',
      'Query read timeout',
    ]);
    expect(statement.sent).toEqual([['x=0'], ['y=0'], ['a=1', 'b=1', 'c=1']]);
  });
});
