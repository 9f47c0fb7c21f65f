// What the node:test suites (newman, e2e, reliability) share: every resource a test starts is released by
// an after hook of its owner (own), the built API as such a resource, and the suite's time limit.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { apiEnv, freePort, ROOT, SERVER_ENTRY, spawnApi, stopApi, waitForHealth } from "./api-process.mjs";

const RELEASE_TIMEOUT_MS = 30_000;

/** Releases not finished yet: an interrupted run still runs (or waits for) them; see the signal handlers below. */
const unreleased = new Set();

/**
 * Releases a resource when `owner` ends, through its after hooks: `owner` is a test's context `t`, or
 * blockOwner() for what a describe block's tests share. A release never throws, because a throwing after
 * hook would skip the hooks after it; its error is printed instead.
 */
export function own(owner, release) {
  let released = null;
  const releaseOnce = () => {
    released ??= bounded(release).finally(() => unreleased.delete(releaseOnce));
    return released;
  };
  unreleased.add(releaseOnce);
  if (owner.signal.aborted) {
    // A timed-out test's body runs on after its hooks (node:test cannot stop it): what it starts now is
    // released at once, and the body stops here.
    releaseOnce();
    throw new Error("the test already ended; released what it started late");
  }
  owner.after(releaseOnce);
}

/** Runs a release, printing instead of throwing its error, and gives up on it after RELEASE_TIMEOUT_MS. */
function bounded(release) {
  let timer;
  const limit = new Promise((resolve) => {
    timer = setTimeout(() => {
      console.error(`cleanup still running after ${RELEASE_TIMEOUT_MS / 1000} s; gave up on it`);
      resolve();
    }, RELEASE_TIMEOUT_MS);
  });
  const run = Promise.resolve()
    .then(release)
    .catch((error) => console.error(`cleanup failed: ${error?.stack ?? error}`));
  return Promise.race([run, limit]).finally(() => clearTimeout(timer));
}

/**
 * The owner of what a describe block's tests share (one API for a group of checks), started in its before
 * hook. Call it in the block's body: its releases run in the block's after hook, also when the block times
 * out. (node:test's after() called inside a before hook would attach to that hook and run right after it.)
 */
export function blockOwner() {
  const ended = new AbortController();
  const releases = [];
  after(async () => {
    ended.abort();
    for (const release of releases) await release();
  });
  return { signal: ended.signal, after: (release) => releases.push(release) };
}

/** A fresh directory `crossauth-<name>-*` in the system temp dir, removed when `owner` ends. */
export function tempDir(owner, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crossauth-${name}-`));
  own(owner, () => removeDir(dir));
  return dir;
}

// CROSSAUTH_KEEP_TMP=1 keeps the databases and profiles for a post-mortem (test/run.mjs then reports them).
const removeDir = (dir) => (process.env.CROSSAUTH_KEEP_TMP ? undefined : fs.promises.rm(dir, { recursive: true, force: true }));

/**
 * The built API (dist/backend/server.js) on 127.0.0.1 — a free port unless `port` is given — with its own
 * SQLite file in a fresh temp dir `crossauth-<name>-*`; resolves once GET /api/health answers 200.
 * When `owner` ends, its processes are stopped (SIGTERM, then SIGKILL after `stopTimeoutMs`; 0 kills at
 * once), a failed test gets their last log lines, and the dir is removed. `restart()` starts another
 * process on the same database file (stop the first one before), owned alike.
 */
export async function startApi(owner, { name, env = {}, port, stopTimeoutMs = 5_000 }) {
  if (!fs.existsSync(SERVER_ENTRY)) throw new Error(`${path.relative(ROOT, SERVER_ENTRY)} is missing: run \`npm run build\` first`);
  const firstPort = port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `crossauth-${name}-`));
  const dbFile = path.join(dir, `${name}.db`);
  const started = [];
  own(owner, async () => {
    for (const api of started) await api.stop();
    if (owner.passed === false) {
      for (const api of started) {
        const log = api.server.output().trim().split("\n").slice(-30).join("\n");
        if (log) owner.diagnostic(`API log (port ${api.port}):\n${log}`);
      }
    }
    await removeDir(dir);
  });

  const start = async (apiPort) => {
    if (owner.signal.aborted) throw new Error("the test already ended; not starting the API");
    const childEnv = apiEnv({ ...env, HOST: "127.0.0.1", PORT: String(apiPort), DATABASE_URL: `file:${dbFile}` });
    const server = spawnApi(childEnv);
    const api = {
      url: `http://127.0.0.1:${apiPort}`,
      port: apiPort,
      dir,
      dbFile,
      env: childEnv,
      server,
      stop: () => stopApi(server, stopTimeoutMs),
      restart: async () => start(await freePort()),
    };
    started.push(api);
    await waitForHealth(api.url, server);
    return api;
  };
  return start(firstPort);
}

/**
 * Milliseconds left until the suite's deadline (CROSSAUTH_SUITE_DEADLINE, epoch ms, set by test/run.mjs),
 * for the timeout of each file's describe block; unlimited when a file runs on its own.
 */
export function suiteTimeLeft() {
  const deadline = Number(process.env.CROSSAUTH_SUITE_DEADLINE);
  return deadline ? Math.max(1, deadline - Date.now()) : Infinity;
}

// Ctrl-C, or test/run.mjs stopping a suite past its time limit: node:test runs no hooks then, so the
// releases run here before the process exits. The node:test runner follows a SIGINT with a SIGTERM, so
// both wait for the same releases.
let exiting = null;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    exiting ??= (async () => {
      while (unreleased.size > 0) await Promise.all([...unreleased].map((release) => release()));
      process.exit(130);
    })();
  });
}
