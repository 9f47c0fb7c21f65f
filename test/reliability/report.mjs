// A node:test reporter that writes the reliability suite's report (test/run.mjs sends it to
// test-results/reliability.json): every check with its outcome, duration, error and the figures it
// reported as `name: <JSON>` diagnostics (lib.mjs › figures).
import path from "node:path";

export default async function* reliabilityReport(source) {
  const startedAt = new Date();
  const checks = [];
  let last = null;
  for await (const { type, data } of source) {
    if ((type === "test:pass" || type === "test:fail") && data.details?.type !== "suite" && !data.skip && !data.todo) {
      const error = data.details?.error;
      last = {
        name: data.name,
        group: data.file ? path.basename(data.file, ".test.mjs") : undefined,
        ok: type === "test:pass",
        ms: Math.round(data.details?.duration_ms ?? 0),
        figures: {},
        ...(error ? { error: String(error.cause?.message ?? error.message).replace(/\s+/g, " ").slice(0, 900) } : {}),
        nesting: data.nesting,
      };
      checks.push(last);
    } else if (type === "test:diagnostic" && last && data.nesting === last.nesting) {
      const figure = /^([\w-]+): (.*)$/s.exec(data.message);
      if (figure) last.figures[figure[1]] = parse(figure[2]);
    }
  }
  const passed = checks.filter((check) => check.ok).length;
  const report = {
    suite: "reliability",
    node: process.version,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    passed,
    failed: checks.length - passed,
    checks: checks.map(({ nesting: _nesting, ...check }) => check),
  };
  yield JSON.stringify(report, null, 2) + "\n";
}

function parse(json) {
  try {
    return JSON.parse(json);
  } catch {
    return json;
  }
}
