// Applies the committed Prisma migrations to a SQLite file with the Prisma CLI (`migrate deploy`), but
// only when some are pending: the CLI needs the database to itself, so an up-to-date database is not
// touched (the admin CLI runs beside a live API, and restarts stay fast).
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { PROJECT_ROOT } from "./config";
import { BUSY_TIMEOUT_MS, prepareDatabaseFile } from "./db";

const MIGRATIONS_DIR = path.join(PROJECT_ROOT, "prisma", "migrations");

/** Names of committed migrations the database has not finished applying. */
export function pendingMigrations(databaseFile: string): string[] {
  const committed = fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((name) => fs.existsSync(path.join(MIGRATIONS_DIR, name, "migration.sql")))
    .sort();
  if (!fs.existsSync(databaseFile)) return committed;
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    const tracked = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
    if (!tracked) return committed;
    const applied = new Set(
      (db.prepare("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL").all() as Array<{ migration_name: string }>)
        .map((row) => row.migration_name),
    );
    return committed.filter((name) => !applied.has(name));
  } finally {
    db.close();
  }
}

export async function applyMigrations(databaseFile: string): Promise<void> {
  if (pendingMigrations(databaseFile).length === 0) return;
  prepareDatabaseFile(databaseFile);
  const cli = path.join(PROJECT_ROOT, "node_modules", "prisma", "build", "index.js");
  try {
    await promisify(execFile)(process.execPath, [cli, "migrate", "deploy"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: `file:${databaseFile}`, CHECKPOINT_DISABLE: "1", PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Applying database migrations to ${databaseFile} failed:\n${e.stderr || e.stdout || e.message}`);
  }
}
