// Applies the committed Prisma migrations to a SQLite file with the Prisma CLI (`migrate deploy`).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "./config";

export async function applyMigrations(databaseFile: string): Promise<void> {
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
