// The reliability checks' plumbing: the real API process as an owned resource (test/lib/suite.mjs) with
// request helpers and read-only peeks into its SQLite file, helper processes, the figures each check
// reports, a never-throwing HTTP client and raw sockets for malformed HTTP.
import { spawn } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { ROOT } from "../lib/api-process.mjs";
import { own, startApi as startOwnedApi } from "../lib/suite.mjs";

export const COOKIE_NAME = "__Host-jwt_token";
export const CHECK_TIMEOUT_MS = 120_000;
/** For before hooks that start what a group of checks shares (a describe block's timeout does not cover them). */
export const SETUP_TIMEOUT_MS = 90_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
export const now = () => performance.now();

/**
 * The figures a check measures, filled by its body and reported as one `name: <JSON>` diagnostic each, also
 * when the check fails or times out; test/reliability/report.mjs collects them into test-results/reliability.json.
 */
export function figures(t) {
  const measured = {};
  t.after(() => {
    for (const [name, value] of Object.entries(measured)) {
      if (value !== undefined) t.diagnostic(`${name}: ${JSON.stringify(value)}`);
    }
  });
  return measured;
}

// ---- processes -------------------------------------------------------------------------------------------

/**
 * Starts the API on a free 127.0.0.1 port with a fresh SQLite file and `env` on top of the development
 * defaults; resolves once healthy. Killed (SIGKILL: a check may have left it in any state) when `owner` ends.
 */
export async function startApi(owner, { env = {} } = {}) {
  const handle = await startOwnedApi(owner, { name: "reliability", stopTimeoutMs: 0, env: { NODE_ENV: "development", LOG_LEVEL: "warn", ...env } });
  return new Api(owner, handle);
}

/** `node <file> <args>` as a helper process (the database locker), killed when `owner` ends. */
export function spawnNode(owner, file, args) {
  const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  own(owner, () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    return once(child, "exit");
  });
  return child;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS), or null once it is gone. */
export function rssBytes(pid) {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export class Api {
  constructor(owner, handle) {
    this.owner = owner;
    this.handle = handle;
    this.child = handle.server.child;
    this.pid = this.child.pid;
    this.port = handle.port;
    this.url = handle.url;
    this.dir = handle.dir;
    this.dbFile = handle.dbFile;
    this.env = handle.env;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    own(owner, () => this.agent.destroy());
    this.exited = handle.server.exited.then(({ code, signal }) => ({ code, signal, at: now() }));
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Another API process on the same database file (this one must be gone), owned alike. */
  async restart() {
    return new Api(this.owner, await this.handle.restart());
  }

  logTail(chars = 600) {
    return this.handle.server.output().trim().slice(-chars).replace(/\s+/g, " ");
  }

  kill(signal) {
    this.child.kill(signal);
    return now();
  }

  request(options) {
    return request(this.port, { agent: this.agent, ...options });
  }

  login(uid, password, options = {}) {
    return this.request({ method: "POST", path: "/api/authenticate", body: { uid, password }, ...options });
  }

  signup(uid, password, options = {}) {
    return this.request({ method: "POST", path: "/api/user", body: { uid, name: `Reliability ${uid}`.slice(0, 100), password }, ...options });
  }

  whoami(token, options = {}) {
    return this.request({ path: "/api/id", headers: { Cookie: `${COOKIE_NAME}=${token}` }, ...options });
  }

  logout(token, { all = false, ...options } = {}) {
    return this.request({ method: "DELETE", path: `/api/authenticate${all ? "?all=true" : ""}`, headers: { Cookie: `${COOKIE_NAME}=${token}` }, ...options });
  }

  /** A read-only peek at the SQLite file from this (separate) process; the connection is closed at once. */
  query(sql, params = [], { all = false, timeout = 5000 } = {}) {
    const db = new Database(this.dbFile, { readonly: true, fileMustExist: true, timeout });
    try {
      const statement = db.prepare(sql);
      return all ? statement.all(...params) : statement.get(...params);
    } finally {
      db.close();
    }
  }
}

// ---- HTTP ------------------------------------------------------------------------------------------------

/**
 * One HTTP request to 127.0.0.1:port. Never throws: resolves {status, headers, body, json, ms} or
 * {error, ms} (error is the socket error code, or TIMEOUT). `onWritten` fires once the request is on the wire.
 */
export function request(port, { method = "GET", path: urlPath = "/", headers = {}, body, agent, timeout = 20_000, onWritten } = {}) {
  return new Promise((resolve) => {
    const started = now();
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      result.ms = now() - started;
      if (typeof result.body === "string" && result.body !== "") {
        try {
          result.json = JSON.parse(result.body);
        } catch {
          /* not JSON */
        }
      }
      resolve(result);
    };
    const isRaw = Buffer.isBuffer(body) || typeof body === "string";
    const payload = body === undefined ? undefined : isRaw ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const finalHeaders = { ...headers };
    const has = (name) => Object.keys(finalHeaders).some((k) => k.toLowerCase() === name);
    if (payload && !isRaw && !has("content-type")) finalHeaders["Content-Type"] = "application/json";
    if (payload && !has("content-length") && !has("transfer-encoding")) finalHeaders["Content-Length"] = payload.length;
    let req;
    try {
      req = http.request({ host: "127.0.0.1", port, method, path: urlPath, headers: finalHeaders, agent }, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("close", () => {
          if (!res.complete) done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), error: "RESPONSE_ABORTED" });
        });
      });
    } catch (err) {
      done({ error: err.code || "REQUEST_INVALID" });
      return;
    }
    req.setTimeout(timeout, () => req.destroy(Object.assign(new Error("timeout"), { code: "TIMEOUT" })));
    req.on("error", (err) => done({ error: err.code || err.message }));
    if (onWritten) req.on("finish", onWritten);
    req.end(payload);
  });
}

/** Writes raw bytes on a fresh TCP connection; resolves the status codes of every response seen. */
export function rawExchange(port, bytes, { timeout = 3000, chunks } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const received = [];
    let settled = false;
    const done = (error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const text = Buffer.concat(received).toString("latin1");
      const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
      resolve({ statuses, error, bytes: text.length, text });
    };
    socket.setTimeout(timeout, () => done("TIMEOUT"));
    socket.on("data", (data) => received.push(data));
    socket.on("end", () => done());
    socket.on("close", () => done());
    socket.on("error", (err) => done(err.code));
    socket.on("connect", async () => {
      for (const piece of chunks ?? [bytes]) {
        if (socket.destroyed) break;
        socket.write(piece);
        if (chunks) await sleep(5);
      }
    });
  });
}

/** The session token from a response's Set-Cookie, or null. */
export function tokenFrom(res) {
  for (const line of res.headers?.["set-cookie"] ?? []) {
    const match = new RegExp(`^${COOKIE_NAME}=([^;]*)`).exec(line);
    if (match && match[1]) return match[1];
  }
  return null;
}

export function decodeJwtPayload(token) {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
  } catch {
    return null;
  }
}

/** True when a body is exactly the error shape of docs/api.md › Errors: {message, error, code, data}. */
export function isErrorBody(json) {
  if (!json || typeof json !== "object" || Array.isArray(json)) return false;
  const keys = Object.keys(json).sort().join(",");
  return keys === "code,data,error,message" && typeof json.message === "string" && typeof json.error === "string" && typeof json.code === "string";
}

export const is5xx = (r) => typeof r.status === "number" && r.status >= 500;
