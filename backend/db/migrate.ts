// Applies the committed migrations (prisma/migrations for SQLite, prisma/postgres/migrations for PostgreSQL)
// in order, recording them in Prisma's own `_prisma_migrations` table and format, so `prisma migrate status`
// agrees. Done here rather than by the Prisma CLI: its PostgreSQL migrations fail through the driver adapter
// (prisma/orm#27403), and starting it costs ~2 s. Replicas starting together do not both migrate: SQLite takes
// the write lock, PostgreSQL an advisory lock, and the second finds nothing left to do.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { PROJECT_ROOT, type DatabaseConfig } from "../config";
import { BUSY_TIMEOUT_MS, prepareDatabaseFile } from "./sqlite";
import { poolConfig } from "./postgres";

const MIGRATIONS = {
  sqlite: path.join(PROJECT_ROOT, "prisma", "migrations"),
  postgres: path.join(PROJECT_ROOT, "prisma", "postgres", "migrations"),
};

/** Any constant: the key of the PostgreSQL advisory lock that makes one replica migrate at a time. */
const MIGRATION_LOCK = 4_155_046_017;

interface Migration {
  name: string;
  sql: string;
  /** What Prisma stores: the SHA-256 of the file, in hex. */
  checksum: string;
}

function committedMigrations(kind: DatabaseConfig["kind"], dir = MIGRATIONS[kind]): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, "migration.sql")))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

// Prisma's own definitions of its bookkeeping table.
const SQLITE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL,
  "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`;
const POSTGRES_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`;
const APPLIED = `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;

/** AUTOINCREMENT counters by table (SQLite keeps them in sqlite_sequence, which exists once one is used). */
function sqliteSequences(db: Database.Database): Map<string, number> {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get()) return new Map();
  return new Map((db.prepare("SELECT name, seq FROM sqlite_sequence").all() as Array<{ name: string; seq: number }>).map((r) => [r.name, r.seq]));
}

function migrateSqlite(file: string, dir?: string): string[] {
  prepareDatabaseFile(file);
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma("journal_mode = WAL");
    // Migrations that rebuild a table must not cascade deletes while the old table is dropped (SQLite's own
    // advice for schema changes); the keys are checked once everything is applied.
    db.pragma("foreign_keys = OFF");
    const apply = db.transaction(() => {
      db.exec(SQLITE_TABLE);
      const applied = new Set((db.prepare(APPLIED).all() as Array<{ migration_name: string }>).map((r) => r.migration_name));
      const pending = committedMigrations("sqlite", dir).filter((m) => !applied.has(m.name));
      // A migration that rebuilds a table (copy, drop, rename) restarts its AUTOINCREMENT counter at the
      // highest id left: the id of the newest deleted user would be given out again, and an unexpired token
      // of that user would name the new one. The counters are put back after the migrations.
      const counters = sqliteSequences(db);
      const record = db.prepare(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)`,
      );
      for (const migration of pending) {
        const started = new Date().toISOString();
        db.exec(migration.sql);
        record.run(crypto.randomUUID(), migration.checksum, migration.name, started, new Date().toISOString());
      }
      const restore = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = ? AND seq < ?");
      for (const [table, seq] of counters) {
        if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table)) continue;
        if (restore.run(seq, table, seq).changes === 0 && !db.prepare("SELECT 1 FROM sqlite_sequence WHERE name = ?").get(table)) {
          db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)").run(table, seq);
        }
      }
      const broken = db.prepare("PRAGMA foreign_key_check").all();
      if (broken.length > 0) throw new Error(`the migrations left ${broken.length} rows with broken foreign keys`);
      return pending.map((m) => m.name);
    });
    // IMMEDIATE: the write lock from the start, so a second process waits here and then finds nothing to do.
    return apply.immediate();
  } finally {
    db.close();
  }
}

async function migratePostgres(database: Extract<DatabaseConfig, { kind: "postgres" }>, dir?: string): Promise<string[]> {
  // No query timeout: a migration may legitimately take long, and waiting for another replica's lock too.
  const config = poolConfig({ ...database, timeoutMs: 30_000 });
  const client = new pg.Client({ ...config, query_timeout: undefined, options: `${config.options} -c statement_timeout=0 -c lock_timeout=0` });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    if (database.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${database.schema}"`);
    await client.query(POSTGRES_TABLE);
    const applied = new Set((await client.query<{ migration_name: string }>(APPLIED)).rows.map((r) => r.migration_name));
    const pending = committedMigrations("postgres", dir).filter((m) => !applied.has(m.name));
    for (const migration of pending) {
      // Each migration with its record in one transaction: PostgreSQL's DDL is transactional.
      await client.query("BEGIN");
      try {
        const started = new Date();
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), 1)`,
          [crypto.randomUUID(), migration.checksum, migration.name, started],
        );
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    }
    return pending.map((m) => m.name);
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

/**
 * Applies every pending migration; returns the names applied (none when the database is up to date).
 * `migrationsDir` replaces the committed folder (tests upgrade a database from an older set).
 */
export async function applyMigrations(database: DatabaseConfig, { migrationsDir }: { migrationsDir?: string } = {}): Promise<string[]> {
  try {
    return database.kind === "sqlite" ? migrateSqlite(database.file, migrationsDir) : await migratePostgres(database, migrationsDir);
  } catch (err) {
    const where = database.kind === "sqlite" ? database.file : "the PostgreSQL database (DATABASE_URL)";
    throw new Error(`Applying database migrations to ${where} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// `npm run db:migrate`: the migrations alone, with the API's configuration.
if (require.main === module) {
  import("../config")
    .then(({ loadConfig, readEnvironment }) => applyMigrations(loadConfig(readEnvironment()).database))
    .then((applied) => console.log(applied.length ? `applied: ${applied.join(", ")}` : "the database is up to date"))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
