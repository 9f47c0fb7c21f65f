// `npm run doctor`: which API and which pages to check, with which account, then the configuration checks
// and the live checks in one report (README › Troubleshooting). The CLI only parses arguments and prints.
import { liveChecks, type Credentials } from "./live-checks";
import type { Report } from "./report";
import { readSettings, type Settings } from "./settings";
import { analyzeOrigin } from "./sites";
import { configurationChecks, frontendsOf } from "./static-checks";

export interface DoctorOptions {
  /** The environment, as the API reads it (readEnvironment(): the process environment over `.env`). */
  env: NodeJS.ProcessEnv;
  /** Refusals met before the environment could be read (e.g. CROSSAUTH_ENV_FILE names no file). */
  environmentProblems?: string[];
  api?: string;
  frontends?: string[];
  uid?: string;
  password?: string;
  timeoutMs?: number;
  /** false: configuration checks only, no request at all. */
  live?: boolean;
}

/** Arguments the doctor cannot work with: the CLI prints the message and its usage, and exits 2. */
export class DoctorUsageError extends Error {}

const DEMO_ACCOUNT = { uid: "user", password: "password" };

/** The address the API listens on, as a page on this machine calls it (0.0.0.0 and 127.0.0.1 read as localhost). */
export function defaultApiUrl(settings: Settings): string {
  const host = ["127.0.0.1", "0.0.0.0", "::", "::1"].includes(settings.host) ? "localhost" : settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  return `http://${host}:${settings.port}`;
}

function apiBaseOf(raw: string): string {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) throw new DoctorUsageError(`--api ${raw}: give the API's base URL, e.g. https://api.example.com`);
  // Routes are appended to it, as the pages' config.js does with <meta name="api-uri">.
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** --frontend values as the origin a browser on them sends; by default each ALLOWED_ORIGINS entry's. */
function pageOriginsOf(given: string[] | undefined, settings: Settings): string[] {
  const origins = (given ?? settings.allowedOrigins).map((entry) => {
    const { origin } = analyzeOrigin(entry);
    if (origin === null && given) throw new DoctorUsageError(`--frontend ${entry}: give a page's origin, e.g. https://you.github.io`);
    return origin;
  });
  return [...new Set(origins.filter((origin): origin is string => origin !== null))];
}

/** --uid/--password, else DOCTOR_UID/DOCTOR_PASSWORD, else (not in production) the development demo account. */
export function credentialsOf(options: DoctorOptions, settings: Settings): Credentials | null {
  const uid = options.uid ?? options.env.DOCTOR_UID;
  const password = options.password ?? options.env.DOCTOR_PASSWORD;
  const never = "(the doctor never signs up: it only logs in and out)";
  if (uid && password) {
    const named = options.uid !== undefined || options.password !== undefined ? "--uid and --password" : "DOCTOR_UID and DOCTOR_PASSWORD";
    return { uid, password, howToChange: `check ${named}: they must be the uid and password of an existing account ${never}` };
  }
  if (uid || password || settings.production) return null;
  return {
    ...DEMO_ACCOUNT,
    howToChange: `the development demo account user/password did not work (DEMO_USERS=false, or its password was changed): set DOCTOR_UID and DOCTOR_PASSWORD, or pass --uid and --password, for an existing account ${never}`,
  };
}

export async function runDoctor(options: DoctorOptions): Promise<Report> {
  const reading = readSettings(options.env);
  reading.refusals.unshift(...(options.environmentProblems ?? []));
  const api = apiBaseOf(options.api ?? defaultApiUrl(reading.settings));
  const apiUrl = new URL(api);
  const frontends = frontendsOf(pageOriginsOf(options.frontends, reading.settings), apiUrl);
  const checks = configurationChecks(reading, apiUrl, frontends, options.frontends !== undefined);
  if (options.live !== false) {
    const credentials = credentialsOf(options, reading.settings);
    checks.push(...(await liveChecks({ api, frontends, settings: reading.settings, credentials, timeoutMs: options.timeoutMs ?? 5_000 })));
  }
  return { api, frontends: frontends.map((frontend) => frontend.origin), checks };
}
