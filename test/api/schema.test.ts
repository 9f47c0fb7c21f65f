// One data model, two databases: prisma/schema.prisma is the model, PostgreSQL's schema is derived from it, and
// each migration (for both databases) is the change between two committed snapshots of the model. The check
// (scripts/db.mjs) recomputes all of it offline; here it must pass, and must catch each kind of drift.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../backend/config";
import { tempDir } from "./helpers";

const run = promisify(execFile);
const check = (prismaDir?: string) =>
  run(process.execPath, [path.join(PROJECT_ROOT, "scripts", "db.mjs"), "check", ...(prismaDir ? ["--prisma", prismaDir] : [])], { cwd: PROJECT_ROOT }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
  );

/** A copy of prisma/ to break on purpose. */
function prismaCopy(): string {
  const dir = path.join(tempDir("schema"), "prisma");
  fs.cpSync(path.join(PROJECT_ROOT, "prisma"), dir, { recursive: true });
  return dir;
}

// Files only, no database: jest.config.ts runs this file in the SQLite pass alone.
describe("the files of both databases", () => {
it("finds the SQLite and PostgreSQL schemas and migrations in step", async () => {
  expect(await check()).toEqual({ code: 0, output: expect.stringMatching(/one data model/) });
}, 60_000);

it("names a model change without a migration, and a hand-edited PostgreSQL schema or migration", async () => {
  const changed = prismaCopy();
  fs.appendFileSync(path.join(changed, "schema.prisma"), "\nmodel Extra {\n  id Int @id\n}\n");
  const unmigrated = await check(changed);
  expect(unmigrated.code).toBe(1);
  expect(unmigrated.output).toMatch(/prisma\/postgres\/schema\.prisma is not derived/);
  expect(unmigrated.output).toMatch(/changed since the last migration/);

  const edited = prismaCopy();
  const [first] = fs.readdirSync(path.join(edited, "postgres", "migrations")).filter((n) => !n.endsWith(".toml")).sort();
  fs.appendFileSync(path.join(edited, "postgres", "migrations", first, "migration.sql"), "\nCREATE INDEX \"Sneaky\" ON \"User\"(\"name\");\n");
  const drifted = await check(edited);
  expect(drifted.code).toBe(1);
  expect(drifted.output).toMatch(new RegExp(`postgres/migrations/${first}/migration\\.sql is not the change`));
}, 60_000);
});
