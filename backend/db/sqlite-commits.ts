// Has anyone committed to this SQLite file since we last looked? The session cache asks on every request
// (auth/session-store.sqlite.ts). PRAGMA data_version answers exactly but opens a read transaction: two
// fcntl lock calls, ~6 µs per request under load here. Reading the WAL-index header is one 48-byte pread.
import fs from "node:fs";
import type Database from "better-sqlite3";

/**
 * In WAL mode every commit, by any connection of any process, rewrites the WAL-index header at the start
 * of the -shm file before the commit returns: its change counter, last frame, salts and checksum
 * (https://www.sqlite.org/walformat.html, "The WAL-Index Header"). The -shm file is shared memory, so a read
 * of it sees what other processes' mappings wrote. A torn read only looks like one more change.
 */
const HEADER_BYTES = 48;

/**
 * One descriptor per -shm file in this process, closed with the last user. Closing any descriptor of a file
 * drops every POSIX lock this process holds on it, SQLite's own shared-memory locks included (other
 * processes could then reinitialise the file under us), so it stays open while any connection may use it.
 */
const openFiles = new Map<string, { fd: number; users: number }>();

export interface CommitWatch {
  /** A number that moves whenever anyone has committed since the previous call. */
  version(): number;
  /** Call after the database's connections are closed. */
  close(): void;
}

export function watchCommits(raw: Database.Database): CommitWatch {
  const dataVersion = raw.prepare("PRAGMA data_version").pluck();
  const exact: CommitWatch = { version: () => dataVersion.get() as number, close() {} };
  if (raw.memory || raw.pragma("journal_mode", { simple: true }) !== "wal") return exact;
  dataVersion.get(); // a first read transaction maps the -shm file
  const file = `${raw.name}-shm`;
  let shared = openFiles.get(file);
  if (!shared) {
    try {
      shared = { fd: fs.openSync(file, "r"), users: 0 };
    } catch {
      return exact;
    }
    openFiles.set(file, shared);
  }
  shared.users++;
  const { fd } = shared;
  const seen = Buffer.alloc(HEADER_BYTES);
  const now = Buffer.alloc(HEADER_BYTES);
  fs.readSync(fd, seen, 0, HEADER_BYTES, 0);
  let version = 0;
  let closed = false;
  return {
    version() {
      if (fs.readSync(fd, now, 0, HEADER_BYTES, 0) !== HEADER_BYTES || !now.equals(seen)) {
        now.copy(seen);
        version++;
      }
      return version;
    },
    close() {
      if (closed) return;
      closed = true;
      if (--shared.users === 0) {
        openFiles.delete(file);
        fs.closeSync(fd);
      }
    },
  };
}
