// The doctor's report as text (one line per check, its fix under every ! and ✖) or as one JSON document for CI.
import type { Check, Report, Status } from "./report";

const SYMBOLS: Record<Status, string> = { ok: "✔", warn: "!", fail: "✖" };
const GROUPS: Record<Check["group"], string> = { configuration: "Configuration", live: "Live checks (as the pages' browsers send them)" };

function counts(report: Report): Record<Status, number> {
  const tally: Record<Status, number> = { ok: 0, warn: 0, fail: 0 };
  for (const check of report.checks) tally[check.status]++;
  return tally;
}

function renderCheck(check: Check): string {
  const line = `  ${SYMBOLS[check.status]} ${check.title}${check.detail ? ` — ${check.detail}` : ""}`;
  return check.fix && check.status !== "ok" ? `${line}\n      fix: ${check.fix}` : line;
}

export function renderText(report: Report): string {
  const lines = ["crossauth doctor", `  API    ${report.api}`, `  pages  ${report.frontends.join(", ") || "(none)"}`];
  for (const group of Object.keys(GROUPS) as Check["group"][]) {
    const checks = report.checks.filter((check) => check.group === group);
    if (checks.length > 0) lines.push("", GROUPS[group], ...checks.map(renderCheck));
  }
  const { ok, warn, fail } = counts(report);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  lines.push("", `${plural(fail, "problem")} (✖), ${plural(warn, "warning")} (!), ${ok} fine (✔).`);
  return lines.join("\n");
}

export function renderJson(report: Report): string {
  const tally = counts(report);
  return JSON.stringify({ ok: tally.fail === 0, api: report.api, frontends: report.frontends, summary: tally, checks: report.checks }, null, 2);
}
