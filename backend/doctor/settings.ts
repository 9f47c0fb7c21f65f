// The configuration as the doctor sees it: the same environment the API reads, checked by the API's own
// loadConfig, but never thrown. A configuration the API would refuse still yields settings (the refused
// variables fall back to their defaults), so every other check can run and the refusals become ✖ lines.
import crypto from "node:crypto";
import { ConfigError, envSchema, loadConfig, type Config, type Env } from "../config";

export interface Settings {
  production: boolean;
  nodeEnv: Env["NODE_ENV"];
  host: string;
  port: number;
  frontendPort: number;
  cookieName: string;
  partitioned: boolean;
  ttlSeconds: number;
  /** ALLOWED_ORIGINS entries exactly as written (or the development default), before any check. */
  allowedOrigins: string[];
  allowedOriginsSet: boolean;
  trustProxy: boolean;
  jwtSecretSet: boolean;
}

export interface ConfigReading {
  settings: Settings;
  /** Every reason the API would refuse to start, as loadConfig words them ("VARIABLE: problem; fix"). */
  refusals: string[];
  /** In development: what NODE_ENV=production would refuse on top, with the same wording. */
  productionRefusals: string[];
  /** Dangers the API logs as errors at start but does not refuse (development accounts on a public HOST). */
  loudWarnings: string[];
  /** The configuration the API would run with; null when it would refuse to start. */
  config: Config | null;
}

/** Empty values mean "unset", as in loadConfig. */
function withoutEmpty(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
}

/**
 * Runs loadConfig for its verdict only. Without JWT_SECRET, development loadConfig writes a generated secret
 * into the data directory; the doctor changes nothing, so it lends loadConfig a throwaway one instead.
 */
function verdictOf(raw: Record<string, string>): { problems: string[]; loudWarnings: string[]; config: Config | null } {
  const production = raw.NODE_ENV === "production";
  const env = raw.JWT_SECRET === undefined && !production ? { ...raw, JWT_SECRET: crypto.randomBytes(48).toString("base64url") } : raw;
  try {
    const config = loadConfig(env);
    return { problems: [], loudWarnings: [...config.loudWarnings], config };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems, loudWarnings: [], config: null };
    throw err;
  }
}

export function readSettings(source: NodeJS.ProcessEnv): ConfigReading {
  let raw = withoutEmpty(source);
  const schemaProblems: string[] = [];
  const first = envSchema.safeParse(raw);
  if (!first.success) {
    // Same wording as loadConfig; the refused variables then take their defaults so the rest can be checked.
    schemaProblems.push(...first.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
    const refused = new Set(first.error.issues.map((issue) => String(issue.path[0])));
    raw = Object.fromEntries(Object.entries(raw).filter(([key]) => !refused.has(key)));
  }
  const env = envSchema.parse(raw);
  const production = env.NODE_ENV === "production";
  const verdict = verdictOf(raw);
  const productionRefusals = production ? [] : verdictOf({ ...raw, NODE_ENV: "production" }).problems;
  // The development default of config.ts: the frontend `npm start` serves, under both loopback names.
  const origins = env.ALLOWED_ORIGINS ?? (production ? "" : `http://localhost:${env.FRONTEND_PORT},http://127.0.0.1:${env.FRONTEND_PORT}`);
  return {
    settings: {
      production,
      nodeEnv: env.NODE_ENV,
      host: env.HOST,
      port: env.PORT,
      frontendPort: env.FRONTEND_PORT,
      cookieName: env.JWT_TOKEN_NAME,
      partitioned: env.COOKIE_PARTITIONED,
      ttlSeconds: env.JWT_TTL_SECONDS,
      allowedOrigins: origins.split(",").map((origin) => origin.trim()).filter(Boolean),
      allowedOriginsSet: env.ALLOWED_ORIGINS !== undefined,
      trustProxy: env.TRUST_PROXY,
      jwtSecretSet: env.JWT_SECRET !== undefined,
    },
    refusals: [...schemaProblems, ...verdict.problems],
    productionRefusals,
    loudWarnings: verdict.loudWarnings,
    config: verdict.config,
  };
}

/** "JWT_SECRET: must be at least 32 characters; generate one with: …" → its variable, problem and fix. */
export function splitRefusal(refusal: string): { variable: string; problem: string; fix: string | null } {
  const colon = refusal.indexOf(": ");
  const variable = colon === -1 ? "configuration" : refusal.slice(0, colon);
  const message = colon === -1 ? refusal : refusal.slice(colon + 2);
  const semicolon = message.indexOf("; ");
  return semicolon === -1
    ? { variable, problem: message, fix: null }
    : { variable, problem: message.slice(0, semicolon), fix: message.slice(semicolon + 2) };
}
