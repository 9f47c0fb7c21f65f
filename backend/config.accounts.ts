// The configuration of the account features (docs/recovery.md, two-factor.md, passkeys.md, github.md): their
// part of the one environment schema, and what loadConfig derives from it. Every feature is optional: a
// deployment that sets none of these variables behaves as before (the routes answer *_UNAVAILABLE or 404).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parse as parseDomain } from "tldts";
import { z } from "zod";

const positive = (fallback: number, min: number, max: number) =>
  z.coerce.number({ message: "must be a whole number" }).int({ message: "must be a whole number" }).min(min, { message: `must be at least ${min}` }).max(max, { message: `must be at most ${max}` }).default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "use true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

export const accountsEnvSchema = {
  FRONTEND_URL: z.string().optional(),
  PUBLIC_API_URL: z.string().optional(),
  MAIL_TRANSPORT: z.enum(["smtp", "console", "off"], { message: "use smtp, console or off" }).optional(),
  SMTP_URL: z.string().optional(),
  MAIL_FROM: z.string().min(3).default("crossauth <no-reply@localhost>"),
  RESET_TOKEN_TTL_SECONDS: positive(1800, 60, 86_400),
  VERIFY_TOKEN_TTL_SECONDS: positive(86_400, 60, 30 * 86_400),
  RATE_LIMIT_MAIL_PER_IP: positive(5, 1, 1_000_000),
  MAIL_PER_ACCOUNT_PER_HOUR: positive(3, 1, 1000),
  DATA_ENCRYPTION_KEY: z.string().optional(),
  DATA_ENCRYPTION_PREVIOUS_KEYS: z.string().default(""),
  MFA_ISSUER: z.string().min(1).max(64).default("crossauth"),
  MFA_CHALLENGE_TTL_SECONDS: positive(300, 30, 3600),
  WEBAUTHN_RP_ID: z.string().optional(),
  WEBAUTHN_RP_NAME: z.string().min(1).max(64).default("crossauth"),
  WEBAUTHN_ORIGINS: z.string().optional(),
  WEBAUTHN_RELATED_ORIGINS: flag(false),
  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  GITHUB_OAUTH_BASE_URL: z.string().default("https://github.com"),
  GITHUB_API_BASE_URL: z.string().default("https://api.github.com"),
  OAUTH_LINK_BY_VERIFIED_EMAIL: flag(false),
};

const accountsEnv = z.object(accountsEnvSchema);
type AccountsEnv = z.output<typeof accountsEnv>;

interface Context {
  production: boolean;
  port: number;
  allowedOrigins: readonly string[];
  /** Where generated development keys live (beside the SQLite file, or data/). */
  dataDir: string;
  problems: string[];
  warnings: string[];
}

const GENERATE_KEY = `node -e "console.log(require('crypto').randomBytes(32).toString('base64'))"`;

/** A base URL without a trailing slash (http(s) only), or null with a problem naming the variable. */
function baseUrl(name: string, value: string, problems: string[]): string | null {
  const parsed = URL.canParse(value) ? new URL(value) : null;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.search || parsed.hash || parsed.username) {
    problems.push(`${name}: must be an http(s) URL such as https://api.example.com (no query, fragment or credentials)`);
    return null;
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** A key id that names a key without revealing it (as for the JWT keys). */
export const dataKeyId = (key: Buffer) => crypto.createHash("sha256").update(key).digest("base64url").slice(0, 12);

function decodeKey(name: string, value: string, problems: string[]): Buffer | null {
  const key = Buffer.from(value.trim(), /[-_]/.test(value) ? "base64url" : "base64");
  if (key.length !== 32) {
    problems.push(`${name}: must be 32 random bytes in base64 (44 characters); generate one with: ${GENERATE_KEY}`);
    return null;
  }
  return key;
}

/**
 * DATA_ENCRYPTION_KEY (AES-256-GCM for secrets at rest, never derived from the JWT secret): in development
 * generated once into the data directory like the JWT secret; in production absent means "no two-factor"
 * (enrolment answers MFA_UNAVAILABLE), never a generated key the next replica would not share.
 */
function dataKeys(env: AccountsEnv, ctx: Context) {
  let current: Buffer | null = null;
  if (env.DATA_ENCRYPTION_KEY !== undefined) current = decodeKey("DATA_ENCRYPTION_KEY", env.DATA_ENCRYPTION_KEY, ctx.problems);
  else if (!ctx.production) current = loadOrCreateDevKey(ctx);
  const previous = env.DATA_ENCRYPTION_PREVIOUS_KEYS.split(",")
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => decodeKey("DATA_ENCRYPTION_PREVIOUS_KEYS", k, ctx.problems))
    .filter((k): k is Buffer => k !== null);
  if (!current) return null;
  return Object.freeze({ current: Object.freeze({ id: dataKeyId(current), key: current }), previous: previous.map((key) => Object.freeze({ id: dataKeyId(key), key })) });
}

function loadOrCreateDevKey(ctx: Context): Buffer {
  const file = path.join(ctx.dataDir, ".data-key");
  try {
    const existing = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
    if (existing.length === 32) return existing;
  } catch {
    /* not created yet */
  }
  const key = crypto.randomBytes(32);
  fs.mkdirSync(ctx.dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600 });
  ctx.warnings.push(`DATA_ENCRYPTION_KEY is not set: generated a development key in ${file}. Set DATA_ENCRYPTION_KEY (${GENERATE_KEY}) in production.`);
  return key;
}

/** Mail: SMTP in production (off without SMTP_URL), the console transport in development. */
function mail(env: AccountsEnv, ctx: Context) {
  const smtpUrl = env.SMTP_URL ?? null;
  if (smtpUrl !== null && !(URL.canParse(smtpUrl) && /^smtps?:$/.test(new URL(smtpUrl).protocol))) {
    ctx.problems.push("SMTP_URL: must be smtp://user:password@host:587 or smtps://… (the value is not shown: it may hold a password)");
  }
  const transport = env.MAIL_TRANSPORT ?? (smtpUrl ? "smtp" : ctx.production ? "off" : "console");
  if (ctx.production && env.MAIL_TRANSPORT === "console") {
    ctx.problems.push("MAIL_TRANSPORT: console prints reset links to the server's output; production needs smtp (with SMTP_URL) or off");
  }
  if (transport === "smtp" && !smtpUrl) ctx.problems.push("SMTP_URL: required when MAIL_TRANSPORT=smtp");
  return Object.freeze({
    transport,
    smtpUrl,
    from: env.MAIL_FROM,
    resetTtlSeconds: env.RESET_TOKEN_TTL_SECONDS,
    verifyTtlSeconds: env.VERIFY_TOKEN_TTL_SECONDS,
    perIpPerMinute: env.RATE_LIMIT_MAIL_PER_IP,
    perAccountPerHour: env.MAIL_PER_ACCOUNT_PER_HOUR,
  });
}

const isIpHost = (host: string) => /^\[.*\]$/.test(host) || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);

/**
 * Why `rpId` cannot be a WebAuthn relying-party ID, or null. The ceremony runs in the frontend's page, so
 * the RP ID is the page's host or a registrable suffix of it — never an IP address, never a public suffix
 * (`github.io`: every `you.github.io` is its own site). tldts treats unknown names such as `localhost` as
 * their own suffix but neither ICANN nor private: those are allowed.
 */
export function rpIdProblem(rpId: string): string | null {
  const parsed = parseDomain(rpId, { allowPrivateDomains: true });
  if (isIpHost(rpId) || parsed.isIp) return "an IP address cannot be a relying-party ID: browsers refuse passkeys on IP addresses";
  // A bare lower-case host name, as browsers compare it: "https://example.com" or "Example.com:443" never match.
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(rpId)) return `'${rpId.slice(0, 100)}' is not a bare host name: write it like example.com (lower case, no scheme, port or path)`;
  if (parsed.publicSuffix === rpId && (parsed.isIcann || parsed.isPrivate)) return `${rpId} is a public suffix: use your own host under it, such as you.${rpId}`;
  return null;
}

/** Whether a page on `origin` may use `rpId`: its host is the RP ID or under it, over https (or on localhost). */
export function originServesRpId(origin: string, rpId: string): boolean {
  const url = new URL(origin);
  // WebAuthn runs only in secure contexts: https pages, and http on localhost (browsers count *.localhost too).
  const secure = url.protocol === "https:" || url.hostname === "localhost" || url.hostname.endsWith(".localhost");
  return secure && (url.hostname === rpId || url.hostname.endsWith(`.${rpId}`));
}

/**
 * Passkeys: the RP ID defaults to the host of the first ALLOWED_ORIGINS entry that can have one, and the
 * origins to the allowed origins under it. With none (every page on an IP address) passkeys are off.
 */
function webauthn(env: AccountsEnv, ctx: Context) {
  let rpId: string | null = null;
  if (env.WEBAUTHN_RP_ID !== undefined) {
    const problem = rpIdProblem(env.WEBAUTHN_RP_ID);
    if (problem) ctx.problems.push(`WEBAUTHN_RP_ID: ${problem}`);
    else rpId = env.WEBAUTHN_RP_ID;
  } else {
    // Only a page that can itself run a ceremony on its host: not an IP address, and https or localhost (an
    // http page on another name could never use the RP ID it would give).
    const candidate = ctx.allowedOrigins.map((o) => new URL(o)).find((url) => rpIdProblem(url.hostname) === null && originServesRpId(url.origin, url.hostname));
    rpId = candidate?.hostname ?? null;
  }
  let origins: string[] = [];
  if (rpId !== null) {
    origins = env.WEBAUTHN_ORIGINS !== undefined ? env.WEBAUTHN_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean) : ctx.allowedOrigins.filter((o) => originServesRpId(o, rpId as string));
    for (const origin of origins) {
      if (!ctx.allowedOrigins.includes(origin)) ctx.problems.push(`WEBAUTHN_ORIGINS: '${origin}' is not in ALLOWED_ORIGINS`);
      else if (isIpHost(new URL(origin).hostname) || !originServesRpId(origin, new URL(origin).hostname)) ctx.problems.push(`WEBAUTHN_ORIGINS: '${origin}' cannot use passkeys: browsers allow them only on https pages (or http://localhost) with a host name, not an IP address`);
      else if (!env.WEBAUTHN_RELATED_ORIGINS && !originServesRpId(origin, rpId)) {
        ctx.problems.push(`WEBAUTHN_ORIGINS: '${origin}' is not under the relying-party ID ${rpId}; list only pages on ${rpId}, or set WEBAUTHN_RELATED_ORIGINS=true`);
      }
    }
    if (origins.length === 0) ctx.warnings.push(`WEBAUTHN_RP_ID=${rpId}: no ALLOWED_ORIGINS page is on ${rpId} or under it over https, so no page can use passkeys (docs/passkeys.md)`);
  }
  return Object.freeze({ rpId, rpName: env.WEBAUTHN_RP_NAME, origins: Object.freeze(origins), relatedOrigins: env.WEBAUTHN_RELATED_ORIGINS });
}

function github(env: AccountsEnv, ctx: Context) {
  if ((env.GITHUB_CLIENT_ID === undefined) !== (env.GITHUB_CLIENT_SECRET === undefined)) {
    ctx.problems.push("GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET: set both (from your GitHub OAuth app) or neither");
    return null;
  }
  if (env.GITHUB_CLIENT_ID === undefined) return null;
  const oauthBaseUrl = baseUrl("GITHUB_OAUTH_BASE_URL", env.GITHUB_OAUTH_BASE_URL, ctx.problems);
  const apiBaseUrl = baseUrl("GITHUB_API_BASE_URL", env.GITHUB_API_BASE_URL, ctx.problems);
  if (!oauthBaseUrl || !apiBaseUrl) return null;
  return Object.freeze({ clientId: env.GITHUB_CLIENT_ID, clientSecret: env.GITHUB_CLIENT_SECRET as string, oauthBaseUrl, apiBaseUrl, linkByVerifiedEmail: env.OAUTH_LINK_BY_VERIFIED_EMAIL });
}

/** Everything the account features read from the configuration; problems and warnings go into `ctx`. */
export function accountsConfig(env: AccountsEnv, context: Context) {
  // Malformed ALLOWED_ORIGINS entries are reported by config.ts; here only the usable ones count.
  const ctx = { ...context, allowedOrigins: context.allowedOrigins.filter((o) => URL.canParse(o) && new URL(o).origin === o) };
  const frontendUrl = env.FRONTEND_URL === undefined ? (ctx.allowedOrigins[0] ?? null) : baseUrl("FRONTEND_URL", env.FRONTEND_URL, ctx.problems);
  if (frontendUrl !== null && !ctx.allowedOrigins.includes(new URL(frontendUrl).origin)) {
    ctx.problems.push(`FRONTEND_URL: its origin ${new URL(frontendUrl).origin} must be one of ALLOWED_ORIGINS (links in mail lead there)`);
  }
  const githubConfig = github(env, ctx);
  let publicApiUrl = env.PUBLIC_API_URL === undefined ? null : baseUrl("PUBLIC_API_URL", env.PUBLIC_API_URL, ctx.problems);
  if (publicApiUrl === null && env.PUBLIC_API_URL === undefined) {
    if (!ctx.production) publicApiUrl = `http://localhost:${ctx.port}`;
    else if (githubConfig) ctx.problems.push("PUBLIC_API_URL: required in production with GitHub sign-in: the address GitHub sends people back to, such as https://api.example.com");
  }
  return {
    frontendUrl,
    publicApiUrl,
    mail: mail(env, ctx),
    dataKeys: dataKeys(env, ctx),
    mfa: Object.freeze({ issuer: env.MFA_ISSUER, challengeTtlSeconds: env.MFA_CHALLENGE_TTL_SECONDS }),
    webauthn: webauthn(env, ctx),
    github: githubConfig,
  };
}
