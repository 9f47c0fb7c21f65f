// The admin CLI (docs/api.md › Overview): `npm run user -- <command>`. Goes through the same service as the API, so
// validation, the last-admin guard and session revocation behave exactly as over HTTP.
import readline from "node:readline/promises";
import { parseArgs } from "node:util";
import pino from "pino";
import { z } from "zod";
import { envSchema, resolveDatabaseFile } from "../config";
import { createDb } from "../db";
import { createHasher } from "../auth/passwords";
import { createUsersService } from "../users/users.service";
import { applyMigrations } from "../migrate";
import { AppError } from "../errors";
import { parse } from "../http/parse";
import { password as passwordSchema, signupBody } from "../users/users.schemas";
import { ROLES, type Role } from "../users/user.model";

const USAGE = `Usage: npm run user -- <command> [options]

  list                                   list every user
  create <uid> --name <name> [--role Admin|User] [--email <email>] [--password <pw>]
  set-role <uid> <Admin|User>            change a role (ends that user's sessions)
  set-password <uid> [--password <pw>]   reset a password (ends that user's sessions)
  delete <uid>                           delete a user (their tokens stop working at once)

Without --password the password is read from standard input (so it stays out of shell history):
  printf '%s\\n' "$NEW_PASSWORD" | npm run user -- create alice --name "Alice" --role Admin
Uses DATABASE_URL and BCRYPT_ROUNDS from the environment, like the API.`;

const COMMANDS = ["list", "create", "set-role", "set-password", "delete"];

async function readPassword(): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined });
  try {
    return (await rl.question(process.stdin.isTTY ? "Password: " : "")).trim();
  } finally {
    rl.close();
  }
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: "string" },
      role: { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, uid, arg] = positionals;
  if (values.help || !command) fail(USAGE);
  if (!COMMANDS.includes(command)) fail(`unknown command '${command}'\n\n${USAGE}`);

  const env = envSchema.pick({ DATABASE_URL: true, BCRYPT_ROUNDS: true }).safeParse(process.env);
  if (!env.success) fail(env.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
  const databaseFile = resolveDatabaseFile(env.data.DATABASE_URL);
  await applyMigrations(databaseFile);
  const db = createDb(databaseFile);
  const hasher = createHasher({ rounds: env.data.BCRYPT_ROUNDS, threads: 1 });
  const users = createUsersService({ db, hasher });
  const role = (value: string | undefined): Role => {
    if (!ROLES.includes(value as Role)) fail(`role must be one of ${ROLES.join(", ")}`);
    return value as Role;
  };
  const needUid = () => uid ?? fail(`${command}: missing <uid>\n\n${USAGE}`);

  try {
    switch (command) {
      case "list":
        console.table((await users.list()).map(({ id, uid: u, name, email, role: r, createdAt }) => ({ id, uid: u, name, email, role: r, createdAt })));
        break;
      case "create": {
        const input = parse(signupBody, {
          uid: needUid(),
          name: values.name ?? fail("create: --name is required"),
          email: values.email,
          password: values.password ?? (await readPassword()),
        });
        const user = await users.create({ ...input, role: role(values.role ?? "User") });
        console.log(`created ${user.uid} (${user.role}, id ${user.id})`);
        break;
      }
      case "set-role": {
        const { user } = await users.updateByUid(needUid(), { role: role(arg) });
        console.log(`${user.uid} is now ${user.role}; their existing sessions were ended`);
        break;
      }
      case "set-password": {
        const target = needUid();
        const { password: newPassword } = parse(z.strictObject({ password: passwordSchema }), { password: values.password ?? (await readPassword()) });
        await users.updateByUid(target, { password: newPassword });
        console.log(`password of ${target} reset; their existing sessions were ended`);
        break;
      }
      case "delete": {
        const user = await users.deleteByUid(needUid());
        console.log(`deleted ${user.uid}`);
        break;
      }
    }
  } catch (err) {
    if (err instanceof AppError) {
      process.exitCode = 1;
      console.error(`${err.code}: ${err.message}`);
    } else {
      throw err;
    }
  } finally {
    await hasher.destroy();
    await db.close();
  }
}

main().catch((err) => {
  pino().error({ err }, "user CLI failed");
  process.exit(1);
});
