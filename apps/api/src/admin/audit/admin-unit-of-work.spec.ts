import { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { AdminUnitOfWork } from './admin-transaction';

/** A query runner that records what it is asked, as PostgresQueryRunner would be. */
class FakeRunner {
  static made: FakeRunner[] = [];
  readonly calls: string[] = [];
  isTransactionActive = false;
  depth = 0;
  manager = { runner: this } as unknown as EntityManager;
  constructor(readonly name: string) {
    FakeRunner.made.push(this);
  }
  query(sql: string): Promise<string> {
    this.calls.push(sql);
    return Promise.resolve(`${this.name}: ${sql}`);
  }
  startTransaction(): Promise<void> {
    this.calls.push(this.depth === 0 ? 'BEGIN' : `SAVEPOINT ${this.depth}`);
    this.depth++;
    this.isTransactionActive = true;
    return Promise.resolve();
  }
  commitTransaction(): Promise<void> {
    this.depth--;
    this.calls.push(this.depth === 0 ? 'COMMIT' : `RELEASE ${this.depth}`);
    this.isTransactionActive = this.depth > 0;
    return Promise.resolve();
  }
  rollbackTransaction(): Promise<void> {
    this.depth--;
    this.calls.push(this.depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${this.depth}`);
    this.isTransactionActive = this.depth > 0;
    return Promise.resolve();
  }
  release(): Promise<void> {
    this.calls.push('release');
    return Promise.resolve();
  }
}

function unitOfWork(): { unit: AdminUnitOfWork; target: FakeRunner; dataSource: DataSource } {
  FakeRunner.made = [];
  let count = 0;
  const dataSource = {
    manager: { name: 'pool manager' },
    createEntityManager: (runner: QueryRunner) => ({ runner }) as unknown as EntityManager,
  } as unknown as DataSource;
  const unit = new AdminUnitOfWork(
    dataSource,
    () => new FakeRunner(`runner${count++}`) as unknown as QueryRunner,
  );
  return { unit, target: FakeRunner.made[0], dataSource };
}

describe('AdminUnitOfWork', () => {
  it('sends the statements of a Promise.all one at a time on the transaction', async () => {
    const { unit, target } = unitOfWork();
    const shared = unit.queryRunner();
    await shared.query('UPDATE t SET a = 1');
    let inFlight = 0;
    let most = 0;
    target.query = (sql: string) => {
      target.calls.push(sql);
      inFlight += 1;
      most = Math.max(most, inFlight);
      return new Promise((resolve) =>
        setTimeout(() => {
          inFlight -= 1;
          resolve(sql);
        }, 5),
      );
    };
    const answers = await Promise.all(['SELECT 1', 'SELECT 2', 'SELECT 3'].map((sql) => shared.query(sql)));
    expect(answers).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
    expect(most).toBe(1);
    expect(target.calls.slice(-3)).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });

  it('runs plain reads before the first write on pooled runners, without a transaction', async () => {
    const { unit, target } = unitOfWork();
    const shared = unit.queryRunner();
    expect(await shared.query('SELECT 1')).toBe('runner1: SELECT 1');
    expect(FakeRunner.made[1].calls).toEqual(['SELECT 1', 'release']);
    expect(target.calls).toEqual([]);
    expect(unit.changed).toBe(false);
  });

  it('begins one transaction at the first write; later reads, writes and nested transactions join it', async () => {
    const { unit, target } = unitOfWork();
    const shared = unit.queryRunner();
    await shared.query('INSERT INTO t VALUES (1)');
    await shared.query('SELECT * FROM t');
    await shared.startTransaction(); // a service's own dataSource.transaction()
    await shared.query('UPDATE t SET x = 2');
    await shared.commitTransaction();
    await shared.release(); // released by the unit, not by each borrower
    expect(unit.queryRunner()).toBe(shared);
    expect(target.calls).toEqual([
      'BEGIN',
      'INSERT INTO t VALUES (1)',
      'SELECT * FROM t',
      'SAVEPOINT 1',
      'UPDATE t SET x = 2',
      'RELEASE 1',
    ]);
    expect(unit.changed).toBe(true);
  });

  it('writes the audit row in the transaction and commits both', async () => {
    const { unit, target } = unitOfWork();
    await unit.queryRunner().query('INSERT INTO t VALUES (1)');
    const afterCommit = jest.fn();
    unit.onCommit(afterCommit);
    await unit.complete(async (manager) => {
      expect(manager).toBe(target.manager);
      await target.query('INSERT INTO audit');
      expect(afterCommit).not.toHaveBeenCalled();
    });
    expect(target.calls).toEqual([
      'BEGIN',
      'INSERT INTO t VALUES (1)',
      'INSERT INTO audit',
      'COMMIT',
      'release',
    ]);
    expect(afterCommit).toHaveBeenCalledTimes(1);
    // After the request, TypeORM gets fresh runners again.
    expect(unit.queryRunner()).not.toBe(target);
  });

  it('rolls the change back when the audit row cannot be written, and says so', async () => {
    const { unit, target } = unitOfWork();
    await unit.queryRunner().query('INSERT INTO t VALUES (1)');
    const afterCommit = jest.fn();
    unit.onCommit(afterCommit);
    await expect(unit.complete(() => Promise.reject(new Error('audit log refused the row')))).rejects.toThrow(
      'audit log refused the row',
    );
    expect(target.calls).toEqual(['BEGIN', 'INSERT INTO t VALUES (1)', 'ROLLBACK', 'release']);
    expect(afterCommit).not.toHaveBeenCalled();
  });

  it('writes the audit row alone when nothing was changed, and rolls back an abandoned request', async () => {
    const quiet = unitOfWork();
    const audit = jest.fn(() => Promise.resolve());
    await quiet.unit.complete(audit);
    expect(audit).toHaveBeenCalledWith(quiet.dataSource.manager);
    expect(quiet.target.calls).toEqual([]);

    const failed = unitOfWork();
    await failed.unit.queryRunner().query('DELETE FROM t');
    await failed.unit.abandon();
    expect(failed.target.calls).toEqual(['BEGIN', 'DELETE FROM t', 'ROLLBACK', 'release']);
  });
});
