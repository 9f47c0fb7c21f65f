// SQLite: Prisma (driver adapter over better-sqlite3) for writes and admin reads, plus one raw better-sqlite3
// connection for the per-request hot reads (a few µs instead of Prisma's ~600 µs).
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../../generated/sqlite/client";
import { watchCommits, type CommitWatch } from "./sqlite-commits";

/** How long a connection waits on another writer's lock before failing with SQLITE_BUSY (→ 503). */
export const BUSY_TIMEOUT_MS = 2000;
const BUSY_RETRY_INTERVAL_MS = 20;

type Adapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;
type Queryable = Pick<Adapter, "queryRaw" | "executeRaw">;

const isBusy = (err: unknown) => (err as { cause?: { originalCode?: unknown } } | null)?.cause?.originalCode === "SQLITE_BUSY";

async function retryWhileBusy<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_INTERVAL_MS));
    }
  }
}

type Guard = <T>(run: () => Promise<T>) => Promise<T>;

function retryStatements<T extends Queryable>(queryable: T, guard: Guard): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  const executeRaw = queryable.executeRaw.bind(queryable);
  queryable.queryRaw = (query) => retryWhileBusy(() => guard(() => queryRaw(query)));
  queryable.executeRaw = (query) => retryWhileBusy(() => guard(() => executeRaw(query)));
  return queryable;
}

/**
 * better-sqlite3 waits for a lock by sleeping inside the call, which would freeze the event loop (every
 * request, health checks included) for up to the busy timeout. Prisma's connection fails at once instead
 * and each statement is retried here without blocking. A statement refused with SQLITE_BUSY changed
 * nothing, so running it again is safe, inside a transaction too. The adapter shares one connection
 * between transactions and plain statements, so while a transaction waits, plain statements are held
 * back: run on that connection they would silently join the transaction (and its commit or rollback).
 */
function waitForLocksWithoutBlocking(connection: Adapter): Adapter {
  let openTransaction: Promise<void> | null = null;
  const outsideTransactions: Guard = (run) => (openTransaction ? openTransaction.then(() => outsideTransactions(run)) : run());
  retryStatements(connection, outsideTransactions);
  const startTransaction = connection.startTransaction.bind(connection);
  connection.startTransaction = (isolationLevel) =>
    outsideTransactions(async () => {
      let end = () => {};
      const gate = new Promise<void>((resolve) => (end = resolve));
      openTransaction = gate;
      const close = () => {
        if (openTransaction === gate) openTransaction = null;
        end();
      };
      try {
        const transaction = retryStatements(await startTransaction(isolationLevel), (run) => run());
        // Prisma ends a transaction with a COMMIT or ROLLBACK statement and then commit() or rollback(), but
        // skips the latter when the statement fails: whichever ends first reopens the gate.
        const executeRaw = transaction.executeRaw.bind(transaction);
        transaction.executeRaw = (query) => (/^(COMMIT|ROLLBACK)$/i.test(query.sql.trim()) ? executeRaw(query).finally(close) : executeRaw(query));
        const commit = transaction.commit.bind(transaction);
        const rollback = transaction.rollback.bind(transaction);
        transaction.commit = () => commit().finally(close);
        transaction.rollback = () => rollback().finally(close);
        return transaction;
      } catch (err) {
        close();
        throw err;
      }
    });
  return connection;
}

export interface SqliteDb {
  kind: "sqlite";
  prisma: PrismaClient;
  raw: Database.Database;
  /** Moves whenever anyone commits to the file (the session cache's validity check). */
  commits: CommitWatch;
  close(): Promise<void>;
}

/**
 * The database holds password hashes and session state: its directory is created 0700 and the file 0600
 * before SQLite or Prisma touch it (SQLite gives the -wal and -shm files the database file's mode). A file
 * left readable by others (made by an older version, or by hand) is narrowed to 0600, with its companions.
 */
export function prepareDatabaseFile(databaseFile: string): void {
  fs.mkdirSync(path.dirname(databaseFile), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(databaseFile, "a", 0o600));
  for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`]) {
    try {
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    } catch {
      // -wal and -shm exist only while a connection is open
    }
  }
}

export function createSqliteDb(databaseFile: string): SqliteDb {
  prepareDatabaseFile(databaseFile);
  const raw = new Database(databaseFile, { timeout: BUSY_TIMEOUT_MS });
  // WAL lets readers proceed while a writer commits; the setting is stored in the file itself.
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  raw.pragma("foreign_keys = ON");
  // Reads only: the hot path reads, and every write goes through Prisma's connection (its retries and 503s).
  raw.pragma("query_only = ON");
  const commits = watchCommits(raw);
  const adapter = new PrismaBetterSQLite3({ url: `file:${databaseFile}`, timeout: 0 });
  const connect = adapter.connect.bind(adapter);
  adapter.connect = async () => waitForLocksWithoutBlocking(await connect());
  const prisma = new PrismaClient({ adapter });
  let closed = false;
  return {
    kind: "sqlite",
    prisma,
    raw,
    commits,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      raw.close();
      commits.close();
    },
  };
}
