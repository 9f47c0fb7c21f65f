// Removes the migrated template database global-setup.ts made.
import fs from "node:fs";
import path from "node:path";

export default async function globalTeardown() {
  const template = process.env.CROSSAUTH_TEST_TEMPLATE_DB;
  if (template) fs.rmSync(path.dirname(template), { recursive: true, force: true });
}
