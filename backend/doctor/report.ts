// What every doctor check returns, and the report they add up to. A check is plain data, so the CLI can print
// it, print it as JSON, and tests can assert on it without parsing text.

/** ✔ works; ! works, but will break in some browsers or later; ✖ broken. */
export type Status = "ok" | "warn" | "fail";

export interface Check {
  /** Stable, for programs and tests: "preflight", "session-cookie", … (a page origin is appended where one applies). */
  id: string;
  /** "configuration" (from the environment alone) or "live" (requests to the running API). */
  group: "configuration" | "live";
  status: Status;
  /** One line: what was checked. */
  title: string;
  /** What was found. */
  detail: string;
  /** For `warn` and `fail`: what to change, in plain words, naming the variable or header. */
  fix?: string;
}

export interface Report {
  api: string;
  frontends: string[];
  checks: Check[];
}

type Fields = Pick<Check, "id" | "title" | "detail">;

// Fields in reading order, as --json prints them.
const make = (status: Status, group: Check["group"], { id, title, detail }: Fields, fix?: string): Check =>
  fix === undefined ? { id, group, status, title, detail } : { id, group, status, title, detail, fix };

export const ok = (group: Check["group"], fields: Fields): Check => make("ok", group, fields);
export const warn = (group: Check["group"], fields: Fields, fix: string): Check => make("warn", group, fields, fix);
export const fail = (group: Check["group"], fields: Fields, fix: string): Check => make("fail", group, fields, fix);

/** Exit status 0 only when nothing is broken: warnings alone do not fail a CI job. */
export const hasFailures = (report: Report): boolean => report.checks.some((check) => check.status === "fail");
