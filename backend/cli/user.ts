// The admin CLI (docs/api.md › Overview): `npm run user -- <command>`. Goes through the same service as the API, so
// validation, the last-admin guard and session revocation behave exactly as over HTTP.
import readline from "node:readline/promises";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import pino from "pino";
import { z } from "zod";
import { ConfigError, loadConfig, readEnvironment } from "../config";
import { createDb } from "../db";
import { createHasher } from "../auth/passwords";
import { createServices } from "../services";
import { applyMigrations } from "../db/migrate";
import { connectRedis, createRedis, RedisStartupError } from "../db/redis";
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
  verify-email <uid>                     mark the user's email address verified
  send-reset <uid>                       mail the user a password reset link (the mail limits apply)
  reset-2fa <uid>                        turn off two-factor authentication (ends that user's sessions)

Without --password the password is asked for without echo, or read verbatim from standard input (so it
stays out of shell history and of \`ps\`):
  printf '%s\\n' "$NEW_PASSWORD" | npm run user -- create alice --name "Alice" --role Admin
Reads the same configuration as the API (DATABASE_URL, BCRYPT_ROUNDS, …) and applies the same password rule.`;

const COMMANDS = ["list", "create", "set-role", "set-password", "delete", "verify-email", "send-reset", "reset-2fa"];

/** One line from a terminal without echoing it, or verbatim from a pipe; never trimmed (spaces are part of it). */
async function readLine(prompt: string): Promise<string> {
  const terminal = process.stdin.isTTY === true;
  // On a terminal, readline still does the line editing, but writes nothing: the password is never shown.
  // It switches the terminal to raw mode (no echo) before the prompt invites typing.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = readline.createInterface({ input: process.stdin, output: terminal ? silent : undefined, terminal });
  if (terminal) process.stderr.write(prompt);
  try {
    return await rl.question("");
  } finally {
    rl.close();
    if (terminal) process.stderr.write("\n");
  }
}

async function readPassword(): Promise<string> {
  const password = await readLine("Password: ");
  if (process.stdin.isTTY && (await readLine("Repeat the password: ")) !== password) fail("the two passwords differ; nothing was changed");
  return password;
}

/** The --password option, with a warning: other users see it in `ps`, and the shell keeps it in its history. */
function passwordOption(value: string | undefined): string | undefined {
  if (value !== undefined) {
    console.error("warning: a password given on the command line is visible to other users of this machine (ps) and stays in your shell history; leave out --password to be asked, or pipe it on standard input");
  }
  return value;
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

  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  await applyMigrations(config.database);
  const hasher = createHasher({ rounds: config.bcryptRounds, threads: 1 });
  // Through the API's own services, so that with several replicas every change reaches their session caches.
  const redis = config.redisUrl ? createRedis({ url: config.redisUrl, timeoutMs: config.dependencyTimeoutMs }) : null;
  if (redis) await connectRedis(redis);
  const { db, users, recovery, mfa } = createServices({ config, db: createDb(config.database, { timeoutMs: config.dependencyTimeoutMs }), hasher, redis, logger: pino({ level: "silent" }) });
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
          password: passwordOption(values.password) ?? (await readPassword()),
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
        const { password: newPassword } = parse(z.strictObject({ password: passwordSchema }), { password: passwordOption(values.password) ?? (await readPassword()) });
        await users.updateByUid(target, { password: newPassword });
        console.log(`password of ${target} reset; their existing sessions were ended`);
        break;
      }
      case "delete": {
        const user = await users.deleteByUid(needUid());
        console.log(`deleted ${user.uid}`);
        break;
      }
      case "verify-email": {
        const { user } = await users.updateByUid(needUid(), { emailVerified: true });
        console.log(`the email address ${user.email} of ${user.uid} is marked verified`);
        break;
      }
      case "reset-2fa": {
        const { user, wasEnabled } = await mfa.resetByUid(needUid(), { by: "cli" });
        console.log(wasEnabled ? `two-factor authentication of ${user.uid} is off; their sessions were ended` : `${user.uid} had no two-factor authentication; their sessions were ended`);
        break;
      }
      case "send-reset": {
        // Waits for the delivery (with its retries), so the command says whether the mail went out.
        recovery.requireMail();
        const { queued, delivered } = await recovery.mailReset(await users.getByUid(needUid()), pino({ level: "silent" }), "cli");
        if (!queued) throw new AppError("RATE_LIMITED", "no mail sent: this account was sent the most mails allowed for now (one a minute, MAIL_PER_ACCOUNT_PER_HOUR an hour); try again later");
        if (!(await delivered)) throw new AppError("MAIL_UNAVAILABLE", "the mail server did not take the mail (after retries); check SMTP_URL and that the mail server is up");
        console.log(`a password reset link was sent to the email address of ${uid}`);
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
    recovery.close();
    await hasher.destroy();
    await db.close();
    redis?.disconnect();
  }
}

// A database or Redis that cannot be used says so in one line (the messages never hold a URL); anything
// else is a bug, reported with its stack.
main().catch((err) => {
  if (err instanceof RedisStartupError || /^Applying database migrations/.test(err?.message ?? "")) console.error(`crossauth user: ${err.message}`);
  else pino().error({ err }, "user CLI failed");
  process.exit(1);
});
