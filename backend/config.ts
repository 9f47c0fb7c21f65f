// The environment, validated once into a frozen, typed Config (docs/api.md › Configuration). Every refusal names the
// variable and the fix; there are no fallbacks anywhere else in the code.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { z } from "zod";
import { passwordProblem, shapeProblem } from "./auth/password-policy";
import { uid as uidSchema } from "./users/users.schemas";
import { accountsConfig, accountsEnvSchema } from "./config.accounts";

export const PROJECT_ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? "../.." : "..");

const DEV_ADMIN_PASSWORD = "password";
const MIN_SECRET_LENGTH = 32;
const GENERATE_SECRET = `node -e "console.log(require('crypto').randomBytes(48).toString('base64url'))"`;
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Why a secret does not look random, or null. A generated key (base64, hex) of 32+ characters has many
 * different characters, none dominant; "aaaa…", "abab…" or a padded word do not.
 */
function secretLooksHandMade(secret: string): string | null {
  const counts = new Map<string, number>();
  for (const c of secret) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size < 8) return `it has only ${counts.size} different characters`;
  const most = Math.max(...counts.values());
  if (most / secret.length > 0.25) return "one character makes up more than a quarter of it";
  return null;
}

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "use true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

const int = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ message: "must be a whole number" })
    .int({ message: "must be a whole number" })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` })
    .default(fallback);

const byteSize = z
  .string()
  .regex(/^\d+(b|kb|mb)?$/i, { message: "use a size such as 16kb or 1mb" })
  .default("16kb");

/** Every configuration variable (docs/api.md › Configuration). `.env.example` lists exactly these keys (a test checks). */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(8587, 0, 65535),
  FRONTEND_PORT: int(4100, 0, 65535),
  // Checked in loadConfig (databaseOf): the value may hold a password, so no message ever repeats it.
  DATABASE_URL: z.string().default("file:./data/dev.db"),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  REDIS_URL: z.string().optional(),
  SINGLE_INSTANCE: bool(false),
  DEPENDENCY_TIMEOUT_MS: int(2000, 100, 60_000),
  JWT_SECRET: z.string().optional(),
  JWT_PREVIOUS_SECRETS: z.string().default(""),
  JWT_TTL_SECONDS: int(3600, 60, 60 * 60 * 24 * 30),
  JWT_TOKEN_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$|^__Host-[A-Za-z0-9_-]+$/, { message: "must be a cookie name such as __Host-jwt_token" })
    .default("__Host-jwt_token"),
  COOKIE_PARTITIONED: bool(true),
  // Development default applied in loadConfig: production must name its origins.
  ALLOWED_ORIGINS: z.string().optional(),
  TRUST_PROXY: bool(false),
  BCRYPT_ROUNDS: int(10, 4, 15),
  LOGIN_MAX_FAILURES: int(5, 1, 1000),
  LOGIN_LOCK_SECONDS: int(300, 1, 86400),
  RATE_LIMIT_LOGIN_PER_IP: int(20, 1, 1_000_000),
  RATE_LIMIT_SIGNUP_PER_IP: int(10, 1, 1_000_000),
  SIGNUP_ENABLED: bool(true),
  ADMIN_UID: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  ADMIN_NAME: z.string().optional(),
  DEMO_USERS: z.enum(["true", "false", "1", "0", "yes", "no"]).optional(),
  BODY_LIMIT: byteSize,
  SHUTDOWN_TIMEOUT_SECONDS: int(10, 0, 600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ...accountsEnvSchema,
});

export type Env = z.infer<typeof envSchema>;

/** The validated configuration: its shape is whatever loadConfig builds from the schema's output. */
export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export type DatabaseConfig =
  | { kind: "sqlite"; file: string }
  | { kind: "postgres"; url: string; schema: string | undefined; poolSize: number };

/**
 * DATABASE_URL → which database. `file:` is SQLite (a path relative to the project root); `postgres://` or
 * `postgresql://` is PostgreSQL (`?schema=` honoured). Problems never quote the value: it may hold a password.
 */
function databaseOf(url: string, poolSize: number, problems: string[]): DatabaseConfig {
  if (/^file:.+/.test(url)) return { kind: "sqlite", file: resolveDatabaseFile(url) };
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = URL.canParse(url) ? new URL(url) : null;
    if (!parsed || !parsed.hostname || parsed.pathname.length < 2) {
      problems.push("DATABASE_URL: not a valid PostgreSQL URL; use postgres://user:password@host:5432/database (the value is not shown: it may hold a password)");
    } else {
      const schema = parsed.searchParams.get("schema") ?? undefined;
      if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) problems.push("DATABASE_URL: ?schema= must be a plain identifier such as crossauth");
      return { kind: "postgres", url, schema, poolSize };
    }
    return { kind: "postgres", url, schema: undefined, poolSize };
  }
  problems.push("DATABASE_URL: must be a SQLite file URL such as file:./data/dev.db, or a PostgreSQL URL such as postgres://user:password@host:5432/database");
  return { kind: "sqlite", file: resolveDatabaseFile("file:./data/dev.db") };
}

/** REDIS_URL → a validated redis:// or rediss:// URL, or null when unset. */
function redisOf(url: string | undefined, problems: string[]): string | null {
  if (url === undefined) return null;
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || !/^rediss?:$/.test(parsed.protocol) || !parsed.hostname) {
    problems.push("REDIS_URL: not a valid Redis URL; use redis://[:password@]host:6379[/db] or rediss:// for TLS (the value is not shown: it may hold a password)");
    return null;
  }
  return url;
}

/** Resolves a `file:` URL to an absolute path; relative paths are relative to the project root. */
export function resolveDatabaseFile(url: string, root = PROJECT_ROOT): string {
  const file = url.replace(/^file:/, "");
  return path.isAbsolute(file) ? file : path.join(root, file);
}

function parseOrigins(raw: string, problems: string[]): string[] {
  const origins = raw
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === "*") {
      problems.push("ALLOWED_ORIGINS: '*' is not allowed with credentialed CORS; list exact origins such as https://you.github.io");
      continue;
    }
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      /* reported below */
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      problems.push(`ALLOWED_ORIGINS: '${origin}' is not an exact origin; use scheme://host[:port] with no path or trailing slash`);
    }
  }
  return origins;
}

/** The development secret: generated once and kept in the data directory so restarts keep sessions. */
function loadOrCreateDevSecret(dataDir: string, warnings: string[]): string {
  const secretFile = path.join(dataDir, ".jwt-secret");
  try {
    const existing = fs.readFileSync(secretFile, "utf8").trim();
    if (existing.length >= MIN_SECRET_LENGTH) return existing;
  } catch {
    /* not created yet */
  }
  const secret = crypto.randomBytes(48).toString("base64url");
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(secretFile, secret + "\n", { mode: 0o600 });
  warnings.push(`JWT_SECRET is not set: generated a development secret in ${secretFile}. Set JWT_SECRET (32+ characters) in production.`);
  return secret;
}

/**
 * The process environment with the project's `.env` (if any) underneath: a variable set in the environment
 * wins over the file. CROSSAUTH_ENV_FILE=off ignores the file (the test suites set it, so a developer's .env
 * cannot change what they test); CROSSAUTH_ENV_FILE=<path> reads another file.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const choice = env.CROSSAUTH_ENV_FILE;
  if (choice === "off") return env;
  const file = choice ? path.resolve(choice) : path.join(PROJECT_ROOT, ".env");
  if (!fs.existsSync(file)) {
    if (choice) throw new ConfigError([`CROSSAUTH_ENV_FILE: ${file} does not exist`]);
    return env;
  }
  return { ...util.parseEnv(fs.readFileSync(file, "utf8")), ...env };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  // Empty strings mean "unset", as they do in most .env tooling.
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const result = envSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const env = result.data;
  const production = env.NODE_ENV === "production";
  const problems: string[] = [];
  const warnings: string[] = [];
  const database = databaseOf(env.DATABASE_URL, env.DATABASE_POOL_SIZE, problems);
  const redisUrl = redisOf(env.REDIS_URL, problems);
  // Where generated development keys live: beside the SQLite file, or the project's data/ for PostgreSQL.
  const dataDir = database.kind === "sqlite" ? path.dirname(database.file) : path.join(PROJECT_ROOT, "data");
  if (production && database.kind === "postgres" && redisUrl === null && !env.SINGLE_INSTANCE) {
    problems.push(
      "REDIS_URL: required in production with PostgreSQL: several API processes would each keep their own rate limits, account locks and session cache. Set REDIS_URL, or SINGLE_INSTANCE=true if exactly one API process uses this database",
    );
  }

  let secret = env.JWT_SECRET;
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_LENGTH} characters; generate one with: ${GENERATE_SECRET}`);
  }
  if (secret === undefined) {
    if (production) {
      problems.push(`JWT_SECRET: required in production (at least ${MIN_SECRET_LENGTH} characters); generate one with: ${GENERATE_SECRET}`);
    } else {
      secret = loadOrCreateDevSecret(dataDir, warnings);
    }
  }
  const previousSecrets = env.JWT_PREVIOUS_SECRETS.split(",").map((s) => s.trim()).filter(Boolean);
  if (previousSecrets.some((s) => s.length < MIN_SECRET_LENGTH)) {
    problems.push(`JWT_PREVIOUS_SECRETS: every key must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const handMade = production && env.JWT_SECRET !== undefined ? secretLooksHandMade(env.JWT_SECRET) : null;
  if (handMade) problems.push(`JWT_SECRET: does not look random (${handMade}); generate one with: ${GENERATE_SECRET}`);
  if (production && env.BCRYPT_ROUNDS < 10) {
    problems.push(`BCRYPT_ROUNDS: ${env.BCRYPT_ROUNDS} is too cheap for production (each guess costs an attacker almost nothing); use 10 or more`);
  }

  if (env.JWT_TOKEN_NAME.startsWith("__Host-") === false && production) {
    warnings.push("JWT_TOKEN_NAME has no __Host- prefix: the cookie can be overwritten by a sibling subdomain.");
  }

  // Development default: the frontend `npm start` serves, under both loopback names.
  const devOrigins = `http://localhost:${env.FRONTEND_PORT},http://127.0.0.1:${env.FRONTEND_PORT}`;
  const allowedOrigins = parseOrigins(env.ALLOWED_ORIGINS ?? (production ? "" : devOrigins), problems);
  if (production && allowedOrigins.length === 0) {
    problems.push("ALLOWED_ORIGINS: required in production; list the exact origins of your frontend, e.g. https://you.github.io");
  }
  for (const origin of production ? allowedOrigins : []) {
    const parsed = URL.canParse(origin) ? new URL(origin) : null;
    if (parsed?.protocol === "http:" && !LOOPBACK_HOSTS.has(parsed.hostname)) {
      problems.push(`ALLOWED_ORIGINS: '${origin}' is plain http; serve that page over https (browsers keep cross-site cookies only for secure pages) and list https://${parsed.host}`);
    }
  }

  const accounts = accountsConfig(env, { production, port: env.PORT, allowedOrigins, dataDir, problems, warnings });

  const devDefaults = !production;
  const adminUid = env.ADMIN_UID ?? (devDefaults ? "admin" : undefined);
  const adminPassword = env.ADMIN_PASSWORD ?? (devDefaults ? DEV_ADMIN_PASSWORD : undefined);
  const adminName = env.ADMIN_NAME ?? "Admin";
  if (production && adminPassword === DEV_ADMIN_PASSWORD) {
    problems.push("ADMIN_PASSWORD: the development password is refused in production; choose a strong one or create the admin with `npm run user -- create`");
  }
  if ((adminUid === undefined) !== (adminPassword === undefined)) {
    problems.push("ADMIN_UID / ADMIN_PASSWORD: set both or neither");
  }
  const uidCheck = adminUid === undefined ? null : uidSchema.safeParse(adminUid);
  if (uidCheck && !uidCheck.success) problems.push(`ADMIN_UID: ${uidCheck.error.issues[0].message}`);
  // The whole password rule in production; in development only its shape, so the well-known demo password works.
  const adminPasswordProblem =
    adminPassword === undefined || adminPassword === DEV_ADMIN_PASSWORD ? null : production ? passwordProblem(adminPassword, [adminUid ?? ""]) : shapeProblem(adminPassword);
  if (adminPasswordProblem) problems.push(`ADMIN_PASSWORD: ${adminPasswordProblem}; choose a long passphrase or create the admin with \`npm run user -- create\``);

  const demoUsers = env.DEMO_USERS === undefined ? devDefaults : ["true", "1", "yes"].includes(env.DEMO_USERS);
  if (production && demoUsers) problems.push("DEMO_USERS: the demo account user/password is refused in production; remove DEMO_USERS or set it to false");
  // Accounts whose password is printed in the README: anyone who can reach the API can log in with them.
  const devAccounts = [...(demoUsers ? ["user"] : []), ...(adminUid && adminPassword === DEV_ADMIN_PASSWORD ? [adminUid] : [])];
  const loudWarnings: string[] = [];
  if (devAccounts.length > 0) {
    const message = `development accounts with the well-known password "password" are active (${devAccounts.join(", ")}); set DEMO_USERS=false and ADMIN_PASSWORD before anyone else can reach this API`;
    if (LOOPBACK_HOSTS.has(env.HOST) || env.HOST === "::1") warnings.push(message);
    else loudWarnings.push(`HOST=${env.HOST} is reachable from other machines and ${message}`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT,
    frontendPort: env.FRONTEND_PORT,
    database: Object.freeze(database),
    dataDir,
    redisUrl,
    singleInstance: env.SINGLE_INSTANCE,
    dependencyTimeoutMs: env.DEPENDENCY_TIMEOUT_MS,
    jwt: Object.freeze({
      secret: secret as string,
      previousSecrets,
      ttlSeconds: env.JWT_TTL_SECONDS,
      cookieName: env.JWT_TOKEN_NAME,
      issuer: "crossauth",
    }),
    cookiePartitioned: env.COOKIE_PARTITIONED,
    allowedOrigins,
    trustProxy: env.TRUST_PROXY,
    bcryptRounds: env.BCRYPT_ROUNDS,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginLockSeconds: env.LOGIN_LOCK_SECONDS,
    rateLimitLoginPerIp: env.RATE_LIMIT_LOGIN_PER_IP,
    rateLimitSignupPerIp: env.RATE_LIMIT_SIGNUP_PER_IP,
    signupEnabled: env.SIGNUP_ENABLED,
    seedAdmin: adminUid && adminPassword ? { uid: adminUid, password: adminPassword, name: adminName } : null,
    demoUsers,
    bodyLimit: env.BODY_LIMIT,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
    logLevel: env.LOG_LEVEL,
    ...accounts,
    warnings,
    /** Warnings that must not be missed (logged as errors): dangerous, yet not refused outside production. */
    loudWarnings,
  });
}
