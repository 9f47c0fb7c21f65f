// A foreign process that locks the API's SQLite file: `node db-locker.mjs <file> <write|exclusive> <holdMs>`.
// write:     BEGIN EXCLUSIVE + a write (in WAL mode this takes the single writer lock; readers go on).
// exclusive: PRAGMA locking_mode=EXCLUSIVE first, which in WAL mode needs an EXCLUSIVE lock on the file.
// Prints one JSON line when it holds the lock (or could not take it) and one when it has released it.
import Database from "better-sqlite3";

const [file, mode, holdMs] = process.argv.slice(2);
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

const db = new Database(file, { timeout: 1000, fileMustExist: true });
try {
  if (mode === "exclusive") db.pragma("locking_mode = EXCLUSIVE");
  db.exec("BEGIN EXCLUSIVE");
  db.prepare("UPDATE User SET name = name WHERE id = (SELECT min(id) FROM User)").run();
  say({ held: true, mode, journalMode: db.pragma("journal_mode", { simple: true }) });
} catch (err) {
  say({ held: false, mode, code: err.code, message: err.message });
  db.close();
  process.exit(0);
}
setTimeout(() => {
  db.exec("ROLLBACK");
  db.close();
  say({ released: true });
  process.exit(0);
}, Number(holdMs));
