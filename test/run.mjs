// `npm test`: type-check, build, then every suite — jest API tests, the Postman collection through newman,
// the browser tests and the reliability suite — a summary, and one closing line "N passed, N failed", also
// written to test-results/summary.txt (.ci/run reads it). Fails too when a run leaves temp files behind.
//
//   node test/run.mjs                                    every suite
//   node test/run.mjs e2e reliability [node:test flags]  only these (after `npm run build`), e.g.
//                                                        --test-name-pattern=lock
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const results = path.join(root, "test-results");
fs.mkdirSync(results, { recursive: true });
process.env.CHECKPOINT_DISABLE = "1";

const node = process.execPath;
const bin = (pkg, file) => path.join(root, "node_modules", pkg, file);
const pass = { passed: 1, failed: 0 };
const fail = { passed: 0, failed: 1 };
/**
 * Past a suite's deadline, node:test's own timeouts get this long to fail the running tests; then the suite
 * gets SIGTERM (its files release what they started) and, this much later again, SIGKILL.
 */
const STOP_GRACE_MS = 30_000;

const tsc = bin("typescript", "bin/tsc");

// PostgreSQL and Redis come from the machine (apt). Without them the suites that need them do not run; the
// closing line says so and how to install them, and REQUIRE_POSTGRES=1 (CI) makes their absence a failure.
const services = createRequire(import.meta.url)("./lib/throwaway.cjs").availability();
const needsServices = (suite) => ({ ...suite, needs: "postgres" });

// The suites, in order; a new one is a new line. Either `run()` resolves { passed, failed }, or `tests` names
// a folder of node:test files (*.test.mjs, run one at a time against the built API, so after the build)
// with the suite's time limit (each file's describe block gets it as CROSSAUTH_SUITE_DEADLINE) and extra
// reporters as [reporter, destination].
const SUITES = [
  { name: "typecheck", run: () => exitStatus(node, [tsc, "-p", "tsconfig.json", "--noEmit"]) },
  { name: "build", run: () => exitStatus(node, [tsc, "-p", "tsconfig.build.json"]) },
  { name: "cycles", title: "import cycles (madge)", run: () => exitStatus(node, [bin("madge", "bin/cli.js"), "--circular", "--extensions", "ts", "backend"]) },
  { name: "jest", title: "jest (API tests, SQLite)", run: () => runJest("sqlite") },
  needsServices({ name: "jest-postgres", title: "jest (API tests, PostgreSQL + Redis)", run: () => runJest("postgres") }),
  { name: "newman", title: "newman (Postman collection)", tests: "test/newman", timeLimitMs: 6 * 60_000 },
  { name: "e2e", title: "browser (Chromium)", tests: "test/e2e", timeLimitMs: 10 * 60_000 },
  {
    name: "reliability",
    tests: "test/reliability",
    timeLimitMs: 7 * 60_000,
    reporters: [["./test/reliability/report.mjs", "test-results/reliability.json"]],
  },
  needsServices({ name: "replicas", title: "replicas (3 APIs on PostgreSQL + Redis)", tests: "test/replicas", timeLimitMs: 8 * 60_000 }),
];

let current = null; // the running suite: { child, stopping }; detached, so its whole process group can be signalled
let interrupted = false;

/**
 * Runs a command in its own process group with inherited output (and a copy of it); resolves with its exit
 * code and output. Past `timeLimitMs` the group is stopped (stopGroup).
 */
function run(command, args, { env = {}, timeLimitMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env }, detached: true });
    const running = { child, stopping: null };
    current = running;
    let output = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (process.stdout.write(d), (output += d)));
    child.stderr.on("data", (d) => (process.stderr.write(d), (output += d)));
    const timer =
      timeLimitMs &&
      setTimeout(() => {
        timedOut = true;
        running.stopping = stopGroup(child, "SIGTERM");
      }, timeLimitMs);
    child.on("close", async (code, signal) => {
      clearTimeout(timer);
      // The node:test runner dies at once; its test files may still be releasing what they started.
      await running.stopping;
      current = null;
      resolve({ code: code ?? (signal ? 1 : 0), output, timedOut });
    });
    child.on("error", (err) => resolve({ code: 1, output: String(err), timedOut }));
  });
}

/** Signals a process group, waits until it is gone, and SIGKILLs what is left after STOP_GRACE_MS. */
async function stopGroup(child, signal) {
  signalGroup(child, signal);
  const deadline = Date.now() + STOP_GRACE_MS;
  while (signalGroup(child, 0)) {
    if (Date.now() > deadline) {
      signalGroup(child, "SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Sends `signal` to the child's process group (0 only checks that one is alive); false when none is left. */
function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function exitStatus(command, args) {
  return (await run(command, args)).code === 0 ? pass : fail;
}

async function runJest(database) {
  const jestJson = path.join(results, `jest-${database}.json`);
  fs.rmSync(jestJson, { force: true });
  await run(node, [bin("jest", "bin/jest.js"), "--json", `--outputFile=${jestJson}`], { env: { CROSSAUTH_TEST_DATABASE: database } });
  if (!fs.existsSync(jestJson)) return fail;
  const report = JSON.parse(fs.readFileSync(jestJson, "utf8"));
  const failedSuites = report.numFailedTestSuites ?? 0;
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests + (report.numTotalTests === 0 ? 1 : 0) + (failedSuites > 0 && report.numFailedTests === 0 ? failedSuites : 0),
  };
}

/**
 * Runs a folder's *.test.mjs files with node:test, one file at a time: the spec reporter for people, and
 * test/lib/count-reporter.mjs for the counts (`RESULT passed=N failed=M`). A run that crashed without that
 * line, ran no test, or went past its time limit counts one more failure.
 */
async function runNodeTests({ tests: dir, timeLimitMs, reporters = [] }, flags) {
  const files = fs
    .readdirSync(path.join(root, dir))
    .filter((file) => file.endsWith(".test.mjs"))
    .sort()
    .map((file) => path.join(dir, file));
  const args = [
    // node:test 20 pipes its event stream into each reporter with a listener per pipe; with three reporters
    // Node warns of a listener leak that is not one.
    "--disable-warning=MaxListenersExceededWarning",
    "--test",
    "--test-concurrency=1",
    ...[["spec", "stdout"], ["./test/lib/count-reporter.mjs", "stdout"], ...reporters].flatMap(([reporter, destination]) => [
      `--test-reporter=${reporter}`,
      `--test-reporter-destination=${destination}`,
    ]),
    ...flags,
    ...files,
  ];
  const deadline = Date.now() + timeLimitMs;
  const { code, output, timedOut } = await run(node, args, {
    env: { CROSSAUTH_SUITE_DEADLINE: String(deadline) },
    timeLimitMs: timeLimitMs + STOP_GRACE_MS,
  });
  const last = [...output.matchAll(/^RESULT passed=(\d+) failed=(\d+)\s*$/gm)].at(-1);
  const counts = last ? { passed: Number(last[1]), failed: Number(last[2]) } : { ...fail };
  if (last && code !== 0 && counts.failed === 0) counts.failed = 1;
  if (last && counts.passed + counts.failed === 0) {
    console.log(`✗ ${dir}: no test ran${flags.length > 0 ? ` (${flags.join(" ")} matches none)` : ""}`);
    counts.failed = 1;
  }
  if (timedOut) {
    console.log(`✗ ${dir} did not finish within its time limit of ${timeLimitMs / 1000} s and was stopped`);
    counts.failed += 1;
  }
  return counts;
}

/** The project's entries in the system temp dir: every suite names what it creates `crossauth-*`. */
const tmp = os.tmpdir();
const ownTempEntries = () => fs.readdirSync(tmp).filter((name) => name.startsWith("crossauth-"));

// ---------------------------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const firstFlag = args.findIndex((arg) => arg.startsWith("-"));
const names = firstFlag === -1 ? args : args.slice(0, firstFlag);
const flags = firstFlag === -1 ? [] : args.slice(firstFlag);
const unknown = names.filter((name) => !SUITES.some((suite) => suite.name === name));
if (unknown.length > 0) {
  console.error(`unknown suite ${unknown.join(", ")}; the suites are ${SUITES.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
const selected = names.length > 0 ? SUITES.filter((suite) => names.includes(suite.name)) : SUITES;

// Ctrl-C reaches only this process (the suites run in their own process groups): pass it on, let the
// suite's files release what they started, then end with a summary.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupted = true;
    if (current && !current.stopping) current.stopping = stopGroup(current.child, signal);
  });
}

const suites = [];
const record = (name, counts) => {
  suites.push({ name, ...counts });
  console.log(`\n── ${name}: ${counts.passed} passed, ${counts.failed} failed\n`);
};

const tempBefore = ownTempEntries();
let buildFailed = false;
const notRun = [];
for (const suite of selected) {
  if (interrupted) break;
  const title = suite.title ?? suite.name;
  if (suite.needs === "postgres" && !services.ok) {
    if (process.env.REQUIRE_POSTGRES === "1") {
      console.log(`✗ ${title}: ${services.missing.join(" and ")} not installed, and REQUIRE_POSTGRES=1 (${services.install})`);
      record(title, fail);
    } else {
      notRun.push(suite.name);
    }
    continue;
  }
  console.log(`── ${title}`);
  if (suite.tests && buildFailed) {
    record(title, fail);
    continue;
  }
  const counts = suite.tests ? await runNodeTests(suite, flags) : await suite.run();
  if (suite.name === "build") buildFailed = counts.failed > 0;
  record(title, counts);
}
if (interrupted) record("interrupted", fail);

const tempAfter = ownTempEntries();
if (tempAfter.length > tempBefore.length) {
  const leftovers = tempAfter.filter((name) => !tempBefore.includes(name));
  console.log(`✗ the run left ${tempAfter.length - tempBefore.length} crossauth-* entries behind in ${tmp}: ${leftovers.join(", ")}`);
  record("temp files", fail);
} else {
  record("temp files", pass);
}

const passed = suites.reduce((n, s) => n + s.passed, 0);
const failed = suites.reduce((n, s) => n + s.failed, 0);
console.log("── summary");
for (const s of suites) console.log(`   ${s.failed ? "✗" : "✓"} ${s.name.padEnd(28)} ${s.passed} passed, ${s.failed} failed`);
// Suites skipped for a missing server are named on the closing line itself, with the command that installs it.
const skipped = notRun.length > 0 ? ` (not run: ${notRun.join(", ")}: ${services.missing.join(" and ")} missing; install with: ${services.install})` : "";
const summary = `${passed} passed, ${failed} failed${skipped}`;
fs.writeFileSync(path.join(results, "summary.txt"), summary + "\n");
console.log(summary);
process.exit(failed === 0 ? 0 : 1);
