// Removes what global-setup.ts made: the SQLite template and, on PostgreSQL runs, both servers and their files.
import fs from "node:fs";
import path from "node:path";

export default async function globalTeardown() {
  const template = process.env.CROSSAUTH_TEST_TEMPLATE_DB;
  if (template) fs.rmSync(path.dirname(template), { recursive: true, force: true });
  const servers = ((globalThis as Record<string, unknown>).__crossauthServers ?? []) as Array<{ destroy(): Promise<void> }>;
  for (const server of servers) await server.destroy();
}
