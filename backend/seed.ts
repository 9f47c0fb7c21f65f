// Startup seeding (docs/api.md › Configuration): the ADMIN_* account (validated by config.ts) and, in development, the demo
// user. Never overwrites.
import type { Logger } from "pino";
import type { Config } from "./config";
import type { UsersService } from "./users/users.service";

export async function seedUsers(config: Config, users: UsersService, logger: Logger): Promise<void> {
  const accounts: Array<{ uid: string; password: string; name: string; role: "Admin" | "User" }> = [];
  if (config.seedAdmin) accounts.push({ ...config.seedAdmin, role: "Admin" });
  if (config.demoUsers) accounts.push({ uid: "user", password: "password", name: "Demo User", role: "User" });
  for (const account of accounts) {
    if (await users.ensure(account, { trusted: true })) logger.info({ event: "seed", uid: account.uid, role: account.role }, "seeded user");
  }
}
