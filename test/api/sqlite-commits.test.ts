// The SQLite session cache trusts its entries until the commit watch moves (db/sqlite-commits.ts). It must move
// for every commit, from this process or another, across WAL restarts, and keep working when another watch
// of the same file closes; it runs on SQLite files only, so this file runs in the SQLite pass.
import { execFileSync } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { watchCommits } from "../../backend/db/sqlite-commits";
import { tempDir } from "./helpers";

function openPair() {
  const file = path.join(tempDir("commits"), "watch.db");
  const writer = new Database(file);
  writer.pragma("journal_mode = WAL");
  writer.exec("CREATE TABLE t (a INTEGER)");
  const reader = new Database(file);
  reader.pragma("query_only = ON");
  return { file, writer, reader };
}

const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

describe("watchCommits (SQLite)", () => {
  it("moves after each commit of another connection, and only then", () => {
    const { writer, reader } = openPair();
    open.push(writer, reader);
    const watch = watchCommits(reader);
    const before = watch.version();
    expect(watch.version()).toBe(before);
    writer.exec("INSERT INTO t VALUES (1)");
    const after = watch.version();
    expect(after).not.toBe(before);
    expect(watch.version()).toBe(after);
    writer.exec("BEGIN; INSERT INTO t VALUES (2); ROLLBACK");
    expect(watch.version()).toBe(after);
    watch.close();
  });

  it("moves after a commit made by another process", () => {
    const { file, writer, reader } = openPair();
    open.push(writer, reader);
    const watch = watchCommits(reader);
    const before = watch.version();
    const script = `const Database = require("better-sqlite3"); new Database(process.argv[1]).exec("INSERT INTO t VALUES (7)");`;
    execFileSync(process.execPath, ["-e", script, file], { cwd: process.cwd() });
    expect(watch.version()).not.toBe(before);
    watch.close();
  });

  it("moves after a commit that restarts the WAL from its start", () => {
    const { writer, reader } = openPair();
    open.push(writer, reader);
    const watch = watchCommits(reader);
    writer.exec("INSERT INTO t VALUES (1)");
    writer.pragma("wal_checkpoint(TRUNCATE)");
    const before = watch.version();
    writer.exec("INSERT INTO t VALUES (2)"); // written at the start of the emptied WAL
    expect(watch.version()).not.toBe(before);
    watch.close();
  });

  it("keeps watching when another watch of the same file closes", () => {
    const { writer, reader } = openPair();
    const second = new Database(writer.name);
    open.push(writer, reader, second);
    const first = watchCommits(reader);
    const other = watchCommits(second);
    other.close();
    const before = first.version();
    writer.exec("INSERT INTO t VALUES (3)");
    expect(first.version()).not.toBe(before);
    first.close();
  });

  it("answers with data_version where there is no WAL (an in-memory database)", () => {
    const memory = new Database(":memory:");
    open.push(memory);
    const watch = watchCommits(memory);
    expect(typeof watch.version()).toBe("number");
    watch.close();
  });
});
