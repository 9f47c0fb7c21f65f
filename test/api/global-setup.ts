// Migrates one template database per jest run; each test file copies it (fast, and a real SQLite file).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMigrations } from "../../backend/migrate";

export default async function globalSetup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-jest-"));
  const template = path.join(dir, "template.db");
  await applyMigrations(template);
  process.env.CROSSAUTH_TEST_TEMPLATE_DB = template;
}
