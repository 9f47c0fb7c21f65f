// Throwaway PostgreSQL and Redis servers for the tests and the bench: a fresh data directory, a free loopback
// port, fsync off, and a stop() that kills the server and removes its files. CommonJS, so jest's setup (ts-jest)
// and the node:test suites (ESM) share it. Running as root (CI), PostgreSQL runs as the `postgres` user.
"use strict";
const { execFileSync, spawn } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The newest installed PostgreSQL server's bin directory, or null. */
function postgresBin() {
  const base = "/usr/lib/postgresql";
  let versions = [];
  try {
    versions = fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, "bin", "postgres")));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0], "bin") : null;
}

function redisBin() {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/bin", "/usr/local/bin"])) {
    const file = path.join(dir, "redis-server");
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** What this machine can run: the missing servers and the command that installs them (Debian). */
function availability() {
  const missing = [];
  if (!postgresBin()) missing.push("postgres");
  if (!redisBin()) missing.push("redis-server");
  return { ok: missing.length === 0, missing, install: "sudo apt-get install -y postgresql redis-server" };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;
/** Runs a PostgreSQL binary as `postgres` when we are root (it refuses to run as root), else as ourselves. */
function asPostgresUser(file, args) {
  return isRoot() ? ["runuser", ["-u", "postgres", "--", file, ...args]] : [file, args];
}

/** Sends `signal` to a pid and waits until it is gone (SIGKILL after `timeoutMs`). */
async function stopPid(pid, signal, timeoutMs = 10_000) {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (alive() && Date.now() < deadline) await sleep(50);
  if (alive()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
    while (alive()) await sleep(50);
  }
}

class Postgres {
  constructor(dir, port, password) {
    this.dir = dir;
    this.port = port;
    this.data = path.join(dir, "data");
    this.child = null;
    this.credentials = password ? `postgres:${encodeURIComponent(password)}` : "postgres";
    /** The superuser URL of database `postgres`; another database's with urlFor(). */
    this.url = this.urlFor("postgres");
  }

  urlFor(database) {
    return `postgresql://${this.credentials}@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts (or restarts, on the same data and port) the server and waits until it accepts connections. */
  async start() {
    const bin = postgresBin();
    const [command, args] = asPostgresUser(path.join(bin, "postgres"), [
      "-D", this.data, "-p", String(this.port), "-k", this.dir,
      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
      "-c", "max_connections=300", "-c", "log_min_messages=fatal",
    ]);
    this.child = spawn(command, args, { stdio: "ignore", detached: false });
    this.child.on("error", () => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (await canConnect(this.port)) {
        // Accepting TCP is not yet accepting logins: poll with pg_isready.
        try {
          execFileSync(path.join(postgresBin(), "pg_isready"), ["-h", "127.0.0.1", "-p", String(this.port), "-U", "postgres", "-d", "postgres"], { stdio: "ignore" });
          return this;
        } catch {
          /* starting up */
        }
      }
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not start on port ${this.port}`);
      await sleep(100);
    }
  }

  /** The postmaster's pid (the child may be runuser, which does not forward signals reliably). */
  pid() {
    try {
      return Number(fs.readFileSync(path.join(this.data, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return null;
    }
  }

  /** Stops the server (fast shutdown: open connections are ended); the data stays for start(). */
  async stop() {
    const pid = this.pid();
    if (pid) await stopPid(pid, "SIGINT");
    if (this.child && this.child.exitCode === null) await stopPid(this.child.pid, "SIGTERM");
    this.child = null;
  }

  /** Stops the server and removes every file it had. */
  async destroy() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A new cluster in a fresh temp directory, started on a free port. With `password`, logins over TCP need it
 * (scram-sha-256), as on a real server; without, anyone on loopback is trusted.
 */
async function startPostgres({ password } = {}) {
  const bin = postgresBin();
  if (!bin) throw new Error(`PostgreSQL is not installed (${availability().install})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-pg-"));
  const server = new Postgres(dir, await freePort(), password);
  try {
    if (isRoot()) execFileSync("chown", ["postgres:postgres", dir]);
    const auth = password ? ["--auth-host=scram-sha-256", "--auth-local=trust", `--pwfile=${path.join(dir, "pw")}`] : ["-A", "trust"];
    if (password) fs.writeFileSync(path.join(dir, "pw"), `${password}\n`, { mode: 0o644 });
    const [command, args] = asPostgresUser(path.join(bin, "initdb"), ["-D", server.data, ...auth, "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    execFileSync(command, args, { stdio: "pipe" });
    if (password) fs.rmSync(path.join(dir, "pw"));
    return await server.start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
}

class RedisServer {
  constructor(dir, port, password) {
    this.dir = dir;
    this.port = port;
    this.password = password;
    this.url = password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
    this.child = null;
  }

  async start() {
    const auth = this.password ? ["--requirepass", this.password] : [];
    this.child = spawn(redisBin(), ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir, ...auth], { stdio: "ignore" });
    this.child.on("error", () => undefined);
    const deadline = Date.now() + 15_000;
    while (!(await canConnect(this.port))) {
      if (Date.now() > deadline) throw new Error(`Redis did not start on port ${this.port}`);
      await sleep(50);
    }
    return this;
  }

  /** Kills the server at once (SIGKILL: as abrupt as a crash); start() brings up an empty one on the same port. */
  async kill() {
    if (this.child && this.child.exitCode === null) await stopPid(this.child.pid, "SIGKILL");
    this.child = null;
  }

  async destroy() {
    if (this.child && this.child.exitCode === null) await stopPid(this.child.pid, "SIGTERM");
    this.child = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function startRedis({ password } = {}) {
  if (!redisBin()) throw new Error(`redis-server is not installed (${availability().install})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-redis-"));
  const server = new RedisServer(dir, await freePort(), password);
  try {
    return await server.start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
}

module.exports = { availability, startPostgres, startRedis, freePort };
