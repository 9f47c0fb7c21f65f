// Startup seeding (SPEC §4): the ADMIN_* account and, in development, the demo user. Never overwrites.
import type { Logger } from "pino";
import type { Config } from "./config";
import { ConfigError } from "./config";
import { parse, password as passwordSchema, uid as uidSchema } from "./users/users.schemas";
import type { UsersService } from "./users/users.service";
import { AppError } from "./errors";

export async function seedUsers(config: Config, users: UsersService, logger: Logger): Promise<void> {
  const accounts: Array<{ uid: string; password: string; name: string; role: "Admin" | "User" }> = [];
  if (config.seedAdmin) accounts.push({ ...config.seedAdmin, role: "Admin" });
  if (config.demoUsers) accounts.push({ uid: "user", password: "password", name: "Demo User", role: "User" });
  for (const account of accounts) {
    try {
      parse(uidSchema, account.uid);
      parse(passwordSchema, account.password);
    } catch (err) {
      if (err instanceof AppError) throw new ConfigError([`ADMIN_UID / ADMIN_PASSWORD: ${err.message}`]);
      throw err;
    }
    if (await users.ensure(account)) logger.info({ event: "seed", uid: account.uid, role: account.role }, "seeded user");
  }
}
