// PostgreSQL: one small pg pool per process (DATABASE_POOL_SIZE) shared by Prisma's driver adapter (writes and
// admin reads) and the session store's prepared statements (the hot reads, without Prisma's ~600 µs).
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import type { Logger } from "pino";
import { PrismaClient as PostgresPrismaClient } from "../../generated/postgres/client";
import type { PrismaClient } from "../../generated/sqlite/client";

export interface PostgresDb {
  kind: "postgres";
  /** Generated from the same models as the SQLite client (prisma/postgres/schema.prisma is derived), so it has the same API. */
  prisma: PrismaClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  schema: string | undefined;
  poolSize: number;
  /** Bounds connecting and every query: no request waits on the database longer than this. */
  timeoutMs: number;
  logger?: Logger;
}

/** The pool's settings, shared with the migration runner so both reach the same schema the same way. */
export function poolConfig({ url, schema, poolSize, timeoutMs }: PostgresOptions): pg.PoolConfig {
  // The server cancels a statement (and its transaction) that runs or waits on a lock longer than the timeout,
  // so a request answered 503 has changed nothing; the client's own timeout only catches a server gone silent.
  const settings = [`statement_timeout=${timeoutMs}`, `lock_timeout=${timeoutMs}`, `idle_in_transaction_session_timeout=${timeoutMs * 5}`];
  // Unqualified names (the session store's statements) resolve in the configured schema.
  if (schema) settings.push(`search_path=${schema}`);
  return {
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs + 1000,
    idleTimeoutMillis: 30_000,
    application_name: "crossauth",
    options: settings.map((setting) => `-c ${setting}`).join(" "),
  };
}

export function createPostgresDb(options: PostgresOptions): PostgresDb {
  const pool = new pg.Pool(poolConfig(options));
  // An idle connection that dies (PostgreSQL restarted) must not crash the process: the pool replaces it,
  // and requests meanwhile get 503 until the database answers again.
  pool.on("error", (err) => options.logger?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, "PostgreSQL connection lost; reconnecting on demand"));
  const adapter = new PrismaPg(pool, { schema: options.schema });
  const prisma = new PostgresPrismaClient({ adapter }) as unknown as PrismaClient;
  let closed = false;
  return {
    kind: "postgres",
    prisma,
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
