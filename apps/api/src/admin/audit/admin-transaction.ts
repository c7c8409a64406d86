import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, EntityManager, QueryRunner, ReplicationMode } from 'typeorm';

/**
 * A statement that only reads and takes no lock: run before the first write of a request, it need not
 * hold a connection in a transaction (an admin action may wait seconds for a gateway between its reads).
 */
export function isPlainRead(sql: string): boolean {
  return (
    /^\s*(?:SELECT|SHOW)\b/i.test(sql) &&
    !/\bFOR\s+(?:UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b|pg_advisory|nextval|setval/i.test(sql)
  );
}

type CreateQueryRunner = (mode?: ReplicationMode) => QueryRunner;

/**
 * The database work of one admin request: one transaction on one connection, begun by the first
 * statement that is not a plain read, ended by `complete` (which writes the audit row in it, then
 * commits) or `abandon` (rollback). Every query runner TypeORM asks for during the request (repositories,
 * `dataSource.query`, a service's own `dataSource.transaction`, which becomes a savepoint) is this one.
 */
export class AdminUnitOfWork {
  private readonly target: QueryRunner;
  private readonly shared: QueryRunner;
  private begun?: Promise<void>;
  private closed = false;
  private readonly afterCommit: (() => void)[] = [];
  /** The statements sent on the transaction's connection, in order. */
  private statements: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly createRunner: CreateQueryRunner,
  ) {
    this.target = createRunner('master');
    this.shared = this.share(this.target);
  }

  /** The runner TypeORM gets while the request is open; after it, a fresh one as usual. */
  queryRunner(mode?: ReplicationMode): QueryRunner {
    return this.closed ? this.createRunner(mode) : this.shared;
  }

  /** Whether the request changed anything (wrote or locked). */
  get changed(): boolean {
    return this.begun !== undefined;
  }

  /** Runs `work` once the transaction has committed (at once when there is none). */
  onCommit(work: () => void): void {
    if (this.closed) work();
    else this.afterCommit.push(work);
  }

  /** Writes the audit row with the request's changes and commits both; if either fails, neither is kept. */
  async complete(audit: (manager: EntityManager) => Promise<void>): Promise<void> {
    this.closed = true;
    if (!this.begun) {
      await audit(this.dataSource.manager);
    } else {
      try {
        await this.begun;
        await audit(this.target.manager);
        await this.target.commitTransaction();
      } catch (error) {
        await this.rollback();
        throw error;
      } finally {
        await this.target.release();
      }
    }
    for (const work of this.afterCommit.splice(0)) work();
  }

  /** The request failed: nothing it changed is kept. */
  async abandon(): Promise<void> {
    this.closed = true;
    this.afterCommit.length = 0;
    if (!this.begun) return;
    try {
      await this.begun.catch(() => undefined);
      await this.rollback();
    } finally {
      await this.target.release();
    }
  }

  private async rollback(): Promise<void> {
    if (!this.target.isTransactionActive) return;
    try {
      await this.target.rollbackTransaction();
    } catch {
      // The connection is gone or the transaction already failed: PostgreSQL has dropped the changes.
    }
  }

  private begin(): Promise<void> {
    this.begun ??= this.target.startTransaction();
    return this.begun;
  }

  /** Reads before the first write on a pooled connection of their own; everything else in the transaction. */
  private async query(args: Parameters<QueryRunner['query']>): Promise<unknown> {
    if (!this.begun && isPlainRead(args[0])) {
      const runner = this.createRunner('master');
      try {
        return await runner.query(...args);
      } finally {
        await runner.release();
      }
    }
    await this.begin();
    // One connection runs one statement at a time: a service's Promise.all of queries takes turns here
    // (pg deprecates handing a busy client another query).
    const turn = this.statements.then(() => this.target.query(...args));
    this.statements = turn.catch(() => undefined);
    return turn;
  }

  private share(target: QueryRunner): QueryRunner {
    let manager: EntityManager | undefined;
    // An arrow trap: `this` is the unit of work.
    const shared: QueryRunner = new Proxy(target, {
      get: (runner, property, receiver): unknown => {
        switch (property) {
          case 'query':
            return (...args: Parameters<QueryRunner['query']>) => this.query(args);
          case 'stream':
            return async (...args: Parameters<QueryRunner['stream']>) => {
              await this.begin();
              return runner.stream(...args);
            };
          case 'startTransaction':
            // A service's own transaction inside the request: a savepoint of the request's transaction.
            return async (...args: Parameters<QueryRunner['startTransaction']>) => {
              await this.begin();
              return runner.startTransaction(...args);
            };
          case 'release':
            // Released when the request ends, not by each operation that borrowed it.
            return () => Promise.resolve();
          case 'manager':
            manager ??= this.dataSource.createEntityManager(shared);
            return manager;
          default:
            return Reflect.get(runner, property, receiver) as unknown;
        }
      },
    });
    return shared;
  }
}

const INSTALLED = Symbol('hes:admin-transaction-installed');

/**
 * Runs an admin request in an `AdminUnitOfWork`: while it runs (AsyncLocalStorage), the data source
 * hands out the request's query runner, so that every service and repository joins the request's
 * transaction without knowing it, and the audit row commits with the change or not at all.
 */
@Injectable()
export class AdminTransactions implements OnModuleInit {
  private readonly storage = new AsyncLocalStorage<AdminUnitOfWork>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const source = this.dataSource as DataSource & { [INSTALLED]?: AdminTransactions };
    if (source[INSTALLED]) return;
    source[INSTALLED] = this;
    const original: CreateQueryRunner = this.dataSource.createQueryRunner.bind(this.dataSource);
    this.original = original;
    this.dataSource.createQueryRunner = (mode?: ReplicationMode): QueryRunner => {
      const unit = this.storage.getStore();
      return unit ? unit.queryRunner(mode) : original(mode);
    };
  }

  private original?: CreateQueryRunner;

  /** A unit of work for one request; `work` and everything it starts run inside it. */
  run<T>(work: (unit: AdminUnitOfWork) => Promise<T>): Promise<T> {
    const create = this.original ?? this.dataSource.createQueryRunner.bind(this.dataSource);
    const unit = new AdminUnitOfWork(this.dataSource, create);
    return this.storage.run(unit, () => work(unit));
  }

  /** Runs `work` after the current request's transaction commits (at once outside a request). */
  afterCommit(work: () => void): void {
    const unit = this.storage.getStore();
    if (unit) unit.onCommit(work);
    else work();
  }
}
