// The database handle for DATABASE_URL: SQLite (the embedded default) or PostgreSQL (several replicas).
// Services see Prisma through `db.prisma` (one API for both); the session store uses `raw` or `pool` directly.
import type { Logger } from "pino";
import type { DatabaseConfig } from "../config";
import { createPostgresDb, type PostgresDb } from "./postgres";
import { createSqliteDb, type SqliteDb } from "./sqlite";
import { Prisma } from "../../generated/sqlite/client";

export type Db = SqliteDb | PostgresDb;
export type { PostgresDb, SqliteDb };

export function createDb(database: DatabaseConfig, options: { timeoutMs: number; logger?: Logger }): Db {
  if (database.kind === "sqlite") return createSqliteDb(database.file);
  return createPostgresDb({ ...database, ...options });
}

const WRITES = new Set(["create", "createMany", "createManyAndReturn", "update", "updateMany", "updateManyAndReturn", "upsert", "delete", "deleteMany"]);

/**
 * The same handle, whose Prisma client calls `changed()` around every write to `models` — before it, after it
 * and, inside a transaction, once more after the commit — and lets the write's caller wait for that. The
 * session cache of several replicas relies on it (auth/session-version.ts): no service can forget to announce
 * a change a session could observe.
 */
export function announcingWrites<T extends Db>(db: T, models: readonly string[], changed: () => Promise<void>): T {
  const watched = new Set(models);
  const extended = db.prisma.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          if (!watched.has(model) || !WRITES.has(operation)) return query(args);
          await changed();
          const result = await query(args);
          await changed();
          return result;
        },
      },
    },
  });
  const transaction = extended.$transaction.bind(extended) as (...args: unknown[]) => Promise<unknown>;
  // The extended client with its $transaction announcing once more after the commit.
  const prisma = Object.create(extended, {
    $transaction: {
      value: async (...args: unknown[]) => {
        const result = await transaction(...args);
        await changed();
        return result;
      },
      writable: true,
      configurable: true,
    },
  }) as Db["prisma"];
  return { ...db, prisma };
}

const SERIALIZATION_RETRIES = 5;

/**
 * A transaction whose reads and writes behave as if it ran alone (SERIALIZABLE), for rules that read then
 * write, such as "another admin remains". SQLite transactions are serial anyway; PostgreSQL may abort one of
 * two conflicting transactions (P2034), which is retried from the start.
 */
export async function serializable<T>(db: Pick<Db, "prisma">, work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.prisma.$transaction(work, { isolationLevel: Prisma.TransactionIsolationLevel.Serializable });
    } catch (err) {
      const conflict = err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2034";
      if (!conflict || attempt >= SERIALIZATION_RETRIES) throw err;
    }
  }
}
