// Startup configuration (docs/api.md › Configuration): production refusals name the variable and the fix; .env.example
// lists exactly the schema's keys; development needs no .env.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, envSchema, loadConfig, PROJECT_ROOT, readEnvironment } from "../../backend/config";
import { tempDir } from "./helpers";

const strongSecret = "Jc8qZ2vTn5WkR0yLb7pXe4HsG1uMd9aF3oQi6tNw-Vz_";
const prod = (env: Record<string, string>) => () =>
  loadConfig({ NODE_ENV: "production", JWT_SECRET: strongSecret, ALLOWED_ORIGINS: "https://you.github.io", DATABASE_URL: "file:/tmp/crossauth-config-test.db", ...env });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("production refusals", () => {
  it("refuses a missing JWT_SECRET, naming the variable and how to make one", () => {
    const [problem] = problemsOf(() => loadConfig({ NODE_ENV: "production", ALLOWED_ORIGINS: "https://you.github.io" }));
    expect(problem).toMatch(/^JWT_SECRET: required in production/);
    expect(problem).toMatch(/randomBytes/);
  });

  it("refuses a JWT_SECRET shorter than 32 characters", () => {
    expect(problemsOf(prod({ JWT_SECRET: "short" }))[0]).toMatch(/^JWT_SECRET: must be at least 32 characters/);
  });

  it("refuses an empty ALLOWED_ORIGINS and a wildcard", () => {
    expect(problemsOf(prod({ ALLOWED_ORIGINS: " , " }))[0]).toMatch(/^ALLOWED_ORIGINS: required in production/);
    expect(problemsOf(prod({ ALLOWED_ORIGINS: "*" }))[0]).toMatch(/^ALLOWED_ORIGINS: '\*' is not allowed/);
    expect(problemsOf(prod({ ALLOWED_ORIGINS: "https://you.github.io/" }))[0]).toMatch(/not an exact origin/);
  });

  it("refuses the development admin password", () => {
    expect(problemsOf(prod({ ADMIN_UID: "root", ADMIN_PASSWORD: "password" }))[0]).toMatch(/^ADMIN_PASSWORD: the development password is refused/);
  });

  it("refuses an ADMIN_UID or ADMIN_PASSWORD the API itself would refuse", () => {
    expect(problemsOf(prod({ ADMIN_UID: "not valid!", ADMIN_PASSWORD: "a-strong-password" }))[0]).toMatch(/^ADMIN_UID: may contain only/);
    expect(problemsOf(prod({ ADMIN_UID: "root", ADMIN_PASSWORD: "short" }))[0]).toMatch(/^ADMIN_PASSWORD: must be at least 8 characters/);
    expect(problemsOf(prod({ ADMIN_UID: "root", ADMIN_PASSWORD: "12345678" }))[0]).toMatch(/^ADMIN_PASSWORD: is one of the most used passwords; /);
    expect(problemsOf(prod({ ADMIN_UID: "rootadmin", ADMIN_PASSWORD: "my-rootadmin-pw-2024" }))[0]).toMatch(/^ADMIN_PASSWORD: must not contain your GitHub ID/);
    expect(problemsOf(prod({ ADMIN_UID: "root" }))[0]).toMatch(/^ADMIN_UID \/ ADMIN_PASSWORD: set both or neither/);
  });

  it("lists every problem at once", () => {
    expect(problemsOf(() => loadConfig({ NODE_ENV: "production" })).length).toBeGreaterThanOrEqual(2);
  });

  it("refuses out-of-range numbers naming the variable", () => {
    expect(problemsOf(prod({ BCRYPT_ROUNDS: "3" }))[0]).toMatch(/^BCRYPT_ROUNDS: must be at least 4/);
    expect(problemsOf(prod({ BCRYPT_ROUNDS: "16" }))[0]).toMatch(/^BCRYPT_ROUNDS: must be at most 15/);
    expect(problemsOf(prod({ PORT: "http" }))[0]).toMatch(/^PORT:/);
    expect(problemsOf(prod({ COOKIE_PARTITIONED: "maybe" }))[0]).toMatch(/^COOKIE_PARTITIONED: use true or false/);
  });

  it("refuses the demo accounts, a cheap bcrypt cost, a hand-made secret and plain-http origins", () => {
    expect(problemsOf(prod({ DEMO_USERS: "true" }))).toEqual([expect.stringMatching(/^DEMO_USERS: the demo account user\/password is refused in production/)]);
    expect(problemsOf(prod({ BCRYPT_ROUNDS: "9" }))).toEqual([expect.stringMatching(/^BCRYPT_ROUNDS: 9 is too cheap for production.*use 10 or more/)]);
    for (const secret of ["a".repeat(48), "ab".repeat(24), "my-super-secret-jwt-key-aaaaaaaaaaaaaaaaaaaaaa"]) {
      expect(problemsOf(prod({ JWT_SECRET: secret }))).toEqual([expect.stringMatching(/^JWT_SECRET: does not look random \(.+\); generate one with: node -e/)]);
    }
    // A hex key is random enough.
    expect(() => prod({ JWT_SECRET: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" })()).not.toThrow();
    const http = problemsOf(prod({ ALLOWED_ORIGINS: "https://you.github.io,http://app.example.com,http://localhost:4100,http://127.0.0.1:4100" }));
    expect(http).toEqual([expect.stringMatching(/^ALLOWED_ORIGINS: 'http:\/\/app\.example\.com' is plain http; serve that page over https.*https:\/\/app\.example\.com/)]);
  });

  it("starts with safe production values and seeds nothing by default", () => {
    const config = prod({})();
    expect(config.seedAdmin).toBeNull();
    expect(config.demoUsers).toBe(false);
    expect(config.jwt.cookieName).toBe("__Host-jwt_token");
    expect(config.cookiePartitioned).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });
});

describe("development defaults", () => {
  it("needs no environment: generates and persists a secret beside the database, with a warning", () => {
    const dir = tempDir("config");
    const first = loadConfig({ DATABASE_URL: `file:${dir}/dev.db` });
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(first.warnings.join()).toMatch(/JWT_SECRET is not set/);
    const second = loadConfig({ DATABASE_URL: `file:${dir}/dev.db` });
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(second.warnings.join()).not.toMatch(/JWT_SECRET/);
    expect(fs.statSync(path.join(dir, ".jwt-secret")).mode & 0o077).toBe(0);
    expect(first).toMatchObject({ port: 8587, host: "127.0.0.1", frontendPort: 4100, demoUsers: true, bcryptRounds: 10 });
    expect(first.seedAdmin).toEqual({ uid: "admin", password: "password", name: "Admin" });
    expect(first.allowedOrigins).toEqual(["http://localhost:4100", "http://127.0.0.1:4100"]);
  });

  it("warns about the development accounts at every start, loudly when HOST is not loopback", () => {
    const dir = tempDir("config");
    const local = loadConfig({ DATABASE_URL: `file:${dir}/dev.db`, JWT_SECRET: strongSecret });
    expect(local.warnings).toContainEqual(expect.stringMatching(/development accounts with the well-known password "password" are active \(user, admin\)/));
    expect(local.loudWarnings).toEqual([]);
    const exposed = loadConfig({ DATABASE_URL: `file:${dir}/dev.db`, JWT_SECRET: strongSecret, HOST: "0.0.0.0" });
    expect(exposed.loudWarnings).toEqual([expect.stringMatching(/^HOST=0\.0\.0\.0 is reachable from other machines and development accounts/)]);
    const none = loadConfig({ DATABASE_URL: `file:${dir}/dev.db`, JWT_SECRET: strongSecret, HOST: "0.0.0.0", DEMO_USERS: "false", ADMIN_PASSWORD: "velvet-thunder-88" });
    expect([...none.warnings, ...none.loudWarnings].filter((w) => /development accounts/.test(w))).toEqual([]);
  });

  it("resolves a relative DATABASE_URL against the project root", () => {
    const config = loadConfig({ DATABASE_URL: "file:./data/dev.db", JWT_SECRET: strongSecret });
    expect(config.database).toEqual({ kind: "sqlite", file: path.join(PROJECT_ROOT, "data", "dev.db") });
  });
});

describe(".env.example", () => {
  it("lists exactly the keys of the config schema", () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, ".env.example"), "utf8");
    const keys = text.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split("=")[0]);
    expect([...keys].sort()).toEqual(Object.keys(envSchema.shape).sort());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("loads as a valid development configuration", () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, ".env.example"), "utf8");
    const env = Object.fromEntries(text.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2)));
    expect(() => loadConfig({ ...env, JWT_SECRET: strongSecret })).not.toThrow();
  });
});

describe(".env", () => {
  it("is read underneath the environment: a variable set in the environment wins", () => {
    const file = path.join(tempDir("dotenv"), ".env");
    fs.writeFileSync(file, "PORT=9999\nLOG_LEVEL=warn\n# a comment\nALLOWED_ORIGINS=https://from-file.example\n");
    const env = readEnvironment({ CROSSAUTH_ENV_FILE: file, LOG_LEVEL: "error" });
    expect(env).toMatchObject({ PORT: "9999", LOG_LEVEL: "error", ALLOWED_ORIGINS: "https://from-file.example" });
    expect(readEnvironment({ CROSSAUTH_ENV_FILE: "off", PORT: "1" })).toEqual({ CROSSAUTH_ENV_FILE: "off", PORT: "1" });
    expect(() => readEnvironment({ CROSSAUTH_ENV_FILE: path.join(path.dirname(file), "missing.env") })).toThrow(ConfigError);
  });
});
