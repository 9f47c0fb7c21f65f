// Reliability suite (issue 4): starts the real API (`node dist/backend/server.js`) per group of checks and
// tries to break it with races, brute force, signals, a foreign SQLite lock, hostile input and timing probes.
// Prints one line per check, then `RESULT passed=N failed=M`; exits 1 on any failure.
// Usage: npm run build && node reliability/run.mjs [name-filter]   (RELIABILITY_SEED, RELIABILITY_KEEP=1)
import fs from "node:fs";
import path from "node:path";
import { CheckFailure, ROOT, SERVER_ENTRY, Scope, killEverything, now, round } from "./lib.mjs";
import { concurrency } from "./concurrency.mjs";
import { bruteForce } from "./brute-force.mjs";
import { lifecycle } from "./lifecycle.mjs";
import { databaseFaults } from "./database-faults.mjs";
import { hostileInput } from "./hostile-input.mjs";
import { timing } from "./timing.mjs";

const GROUPS = [concurrency, bruteForce, lifecycle, databaseFaults, hostileInput, timing];
const CHECK_TIMEOUT_MS = 120_000;
const SUITE_TIMEOUT_MS = 420_000;
const RESULTS_FILE = path.join(ROOT, "test-results", "reliability.json");

const filter = process.argv[2] ?? "";
const results = [];
const suiteStarted = now();

function formatFigures(figures) {
  return Object.entries(figures)
    .filter(([, v]) => v !== undefined && typeof v !== "object")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

function record(name, ok, figures, error, ms) {
  results.push({ name, ok, ms: Math.round(ms), figures, ...(error ? { error } : {}) });
  const shown = formatFigures(figures);
  const detail = ok ? shown : `${error}${shown ? ` [${shown}]` : ""}`;
  console.log(`${ok ? "✓" : "✗"} ${name} — ${detail} (${(ms / 1000).toFixed(1)} s)`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]);
}

/** Runs one named check; `body(figures)` fills `figures` (shown on success and failure) and throws to fail. */
async function check(name, body) {
  if (filter && !name.includes(filter)) return;
  const figures = {};
  const started = now();
  try {
    await withTimeout(Promise.resolve().then(() => body(figures)), CHECK_TIMEOUT_MS, "check");
    record(name, true, figures, null, now() - started);
  } catch (err) {
    const message = err instanceof CheckFailure ? err.message : `${err?.name ?? "Error"}: ${err?.message ?? err}`;
    record(name, false, figures, message.replace(/\s+/g, " ").slice(0, 900), now() - started);
  }
}

function finish(exitCode) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const report = {
    suite: "reliability",
    node: process.version,
    startedAt: new Date(Date.now() - (now() - suiteStarted)).toISOString(),
    durationSeconds: round((now() - suiteStarted) / 1000, 1),
    passed,
    failed,
    checks: results,
  };
  try {
    fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    fs.writeFileSync(RESULTS_FILE, JSON.stringify(report, null, 2) + "\n");
  } catch (err) {
    console.log(`✗ writing ${path.relative(ROOT, RESULTS_FILE)} — ${err.message} (0.0 s)`);
    report.failed += 1;
  }
  console.log(`RESULT passed=${report.passed} failed=${report.failed}`);
  killEverything();
  process.exit(exitCode ?? (report.failed > 0 || report.passed === 0 ? 1 : 0));
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.once(signal, () => {
    record(`interrupted by ${signal}`, false, {}, "suite stopped before the end", 0);
    finish(1);
  });
}
const watchdog = setTimeout(() => {
  record("suite time limit", false, {}, `the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s`, SUITE_TIMEOUT_MS);
  finish(1);
}, SUITE_TIMEOUT_MS);
watchdog.unref();

if (!fs.existsSync(SERVER_ENTRY)) {
  record("build present", false, {}, `${path.relative(ROOT, SERVER_ENTRY)} is missing: run \`npm run build\` first`, 0);
  finish(1);
}

for (const group of GROUPS) {
  if (filter && !group.title.includes(filter) && !filter.startsWith(group.title)) continue;
  const scope = new Scope();
  const started = now();
  try {
    await group({ check, scope });
  } catch (err) {
    // A group whose setup failed (e.g. the API did not start) is one failed line, not a crash of the suite.
    record(`${group.title}: setup`, false, {}, `${err?.message ?? err}`.replace(/\s+/g, " ").slice(0, 900), now() - started);
  } finally {
    await scope.close();
  }
}
finish();
