// The built API as a child process, for the suites that need a real server (newman, browser, reliability,
// bench): a free loopback port, an environment the caller's shell cannot change, the output's tail for
// failure reports, waiting for the first 200 from /api/health, and a bounded stop.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SERVER_ENTRY = path.join(ROOT, "dist", "backend", "server.js");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The inherited environment without any of the API's configuration variables (their names come from the
 * built config schema), plus `overrides`: an exported ALLOWED_ORIGINS or COOKIE_PARTITIONED=false cannot
 * change what a run tests.
 */
export function apiEnv(overrides = {}) {
  const { envSchema } = createRequire(import.meta.url)(path.join(ROOT, "dist", "backend", "config.js"));
  const configKeys = new Set(Object.keys(envSchema.shape));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !configKeys.has(key)));
  // CROSSAUTH_ENV_FILE=off: a developer's .env in the checkout cannot change what a suite tests either.
  return { ...inherited, CROSSAUTH_ENV_FILE: "off", ...overrides };
}

/**
 * Spawns `node dist/backend/server.js` with `env` (see apiEnv). Returns { child, pid, exited, output },
 * where `exited` resolves with { code, signal } and `output()` is the tail of stdout and stderr.
 */
export function spawnApi(env, { nodeFlags = [], outputChars = 20_000 } = {}) {
  const child = spawn(process.execPath, [...nodeFlags, SERVER_ENTRY], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-outputChars);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, pid: child.pid, exited, output: () => output };
}

/** Polls GET /api/health until 200; fails early when the process exits, and after `timeoutMs`. */
export async function waitForHealth(url, api, { timeoutMs = 30_000, pollMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let exit = null;
  api.exited.then((e) => (exit = e));
  while (Date.now() < deadline) {
    if (exit) throw new Error(`the API exited during startup (code ${exit.code}, signal ${exit.signal}):\n${api.output().trim()}`);
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
  throw new Error(`GET /api/health did not answer 200 within ${timeoutMs / 1000} s:\n${api.output().trim()}`);
}

/** SIGTERM, then SIGKILL if the process is still up after `timeoutMs` (0: SIGKILL at once); resolves with { code, signal }. */
export async function stopApi(api, timeoutMs = 10_000) {
  const { child, exited } = api;
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  if (timeoutMs > 0) {
    child.kill("SIGTERM");
    let timer;
    const gaveUp = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, null)));
    // The timer is cleared, not left to run out: a pending one would keep the test process alive.
    const result = await Promise.race([exited, gaveUp]).finally(() => clearTimeout(timer));
    if (result) return result;
  }
  child.kill("SIGKILL");
  return exited;
}
