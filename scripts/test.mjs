// `npm test`: type-check, build, then every suite — jest API tests, the Postman collection through newman,
// the real-browser tests and the reliability suite — and one closing line "N passed, N failed".
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const results = path.join(root, "test-results");
fs.mkdirSync(results, { recursive: true });
process.env.CHECKPOINT_DISABLE = "1";

/** Runs a command with inherited output (and a copy of it); resolves with its exit code and output. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    let output = "";
    child.stdout.on("data", (d) => (process.stdout.write(d), (output += d)));
    child.stderr.on("data", (d) => (process.stderr.write(d), (output += d)));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    child.on("error", (err) => resolve({ code: 1, output: String(err) }));
  });
}

/** A suite that prints `RESULT passed=N failed=M` last; a crash without that line counts as one failure. */
function resultLine(output, code) {
  const matches = [...output.matchAll(/^RESULT passed=(\d+) failed=(\d+)\s*$/gm)];
  const last = matches.at(-1);
  if (!last) return { passed: 0, failed: 1 };
  const counted = { passed: Number(last[1]), failed: Number(last[2]) };
  if (code !== 0 && counted.failed === 0) counted.failed = 1;
  return counted;
}

const suites = [];
const record = (name, counts) => {
  suites.push({ name, ...counts });
  console.log(`\n── ${name}: ${counts.passed} passed, ${counts.failed} failed\n`);
};

const node = process.execPath;
const bin = (pkg, file) => path.join(root, "node_modules", pkg, file);

console.log("── typecheck");
const typecheck = await run(node, [bin("typescript", "bin/tsc"), "-p", "tsconfig.json", "--noEmit"]);
record("typecheck", typecheck.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 });

console.log("── build");
const build = await run(node, [bin("typescript", "bin/tsc"), "-p", "tsconfig.build.json"]);
record("build", build.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 });

console.log("── jest (API tests)");
const jestJson = path.join(results, "jest.json");
fs.rmSync(jestJson, { force: true });
const jest = await run(node, [bin("jest", "bin/jest.js"), "--json", `--outputFile=${jestJson}`]);
if (fs.existsSync(jestJson)) {
  const report = JSON.parse(fs.readFileSync(jestJson, "utf8"));
  const failedSuites = report.numFailedTestSuites ?? 0;
  record("jest", { passed: report.numPassedTests, failed: report.numFailedTests + (report.numTotalTests === 0 ? 1 : 0) + (failedSuites > 0 && report.numFailedTests === 0 ? failedSuites : 0) });
} else {
  record("jest", { passed: 0, failed: 1 });
}

for (const [name, script] of [
  ["newman (Postman collection)", "postman/run.mjs"],
  ["browser (Chromium)", "e2e/run.mjs"],
  ["reliability", "reliability/run.mjs"],
]) {
  console.log(`── ${name}`);
  if (build.code !== 0) {
    record(name, { passed: 0, failed: 1 });
    continue;
  }
  const { code, output } = await run(node, [path.join(root, script)]);
  record(name, resultLine(output, code));
}

const passed = suites.reduce((n, s) => n + s.passed, 0);
const failed = suites.reduce((n, s) => n + s.failed, 0);
console.log("── summary");
for (const s of suites) console.log(`   ${s.failed ? "✗" : "✓"} ${s.name.padEnd(28)} ${s.passed} passed, ${s.failed} failed`);
const summary = `${passed} passed, ${failed} failed`;
fs.writeFileSync(path.join(results, "summary.txt"), summary + "\n");
console.log(summary);
process.exit(failed === 0 ? 0 : 1);
