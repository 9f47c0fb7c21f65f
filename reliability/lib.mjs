// The reliability harness's plumbing: starting and killing the real API process, a never-throwing HTTP
// client, raw sockets for malformed HTTP, read-only peeks into the SQLite file, and small statistics.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";

import { apiEnv, freePort, ROOT, SERVER_ENTRY } from "../scripts/api-process.mjs";

export { ROOT, SERVER_ENTRY };
export const COOKIE_NAME = "__Host-jwt_token";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
export const now = () => performance.now();
export const range = (n) => Array.from({ length: n }, (_, i) => i);

export class CheckFailure extends Error {}
/** Throws a check failure whose message is what the output line shows. */
export function expect(condition, message) {
  if (!condition) throw new CheckFailure(message);
}

// ---- processes -------------------------------------------------------------------------------------------

const live = new Set();
const liveDirs = new Set();
/** Last-resort cleanup: whatever the harness started dies with it, whatever the reason it stops. */
export function killEverything() {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
  live.clear();
  if (!process.env.RELIABILITY_KEEP) for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}
process.on("exit", killEverything);

export function track(child) {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

export function makeTempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crossauth-reliability-"));
  liveDirs.add(dir);
  return dir;
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

/**
 * A scope owns what one group of checks started: API processes, helper children and temp directories.
 * `close()` kills every process still alive (SIGKILL) and removes the directories, also after a failure.
 */
export class Scope {
  constructor() {
    this.children = new Set();
    this.dirs = new Set();
    this.apis = [];
  }

  tempDir() {
    const dir = makeTempDir();
    this.dirs.add(dir);
    return dir;
  }

  spawn(file, args, options = {}) {
    const child = track(spawn(process.execPath, [file, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], ...options }));
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Starts `node dist/backend/server.js` on a free 127.0.0.1 port with a temp SQLite file; resolves once healthy. */
  async startApi({ env = {}, dir } = {}) {
    dir ??= this.tempDir();
    const port = await freePort();
    const dbFile = path.join(dir, "crossauth.db");
    // Every SPEC §4 variable is stripped from the inherited environment: each check sets exactly what it means.
    const childEnv = apiEnv({
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: `file:${dbFile}`,
      LOG_LEVEL: "warn",
      ...env,
    });
    const child = this.spawn(SERVER_ENTRY, [], { env: childEnv });
    const api = new Api({ child, port, dir, dbFile, env: childEnv });
    this.apis.push(api);
    await api.waitUntilHealthy();
    return api;
  }

  async close() {
    for (const child of this.children) {
      try {
        child.kill("SIGKILL");
      } catch {
        /* gone */
      }
    }
    await Promise.all([...this.children].map((c) => new Promise((resolve) => (c.exitCode !== null || c.signalCode ? resolve() : c.once("exit", resolve)))));
    for (const api of this.apis) api.agent.destroy();
    if (!process.env.RELIABILITY_KEEP) {
      for (const dir of this.dirs) {
        fs.rmSync(dir, { recursive: true, force: true });
        liveDirs.delete(dir);
      }
    }
  }
}

export class Api {
  constructor({ child, port, dir, dbFile, env }) {
    this.child = child;
    this.pid = child.pid;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.dir = dir;
    this.dbFile = dbFile;
    this.env = env;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.output = "";
    const keep = (chunk) => {
      this.output = (this.output + chunk).slice(-8000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal, at: now() })));
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitUntilHealthy(timeoutMs = 30_000) {
    const deadline = now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`API exited during startup (code ${this.child.exitCode}, signal ${this.child.signalCode}): ${this.logTail()}`);
      const res = await this.request({ path: "/api/health", timeout: 1000, agent: false });
      if (res.status === 200) return;
      if (now() > deadline) throw new Error(`API not healthy after ${timeoutMs} ms: ${this.logTail()}`);
      await sleep(100);
    }
  }

  logTail(chars = 600) {
    return this.output.trim().slice(-chars).replace(/\s+/g, " ");
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

/** True when a body is exactly the SPEC §5.1 error shape. */
export function isErrorBody(json) {
  if (!json || typeof json !== "object" || Array.isArray(json)) return false;
  const keys = Object.keys(json).sort().join(",");
  return keys === "code,data,error,message" && typeof json.message === "string" && typeof json.error === "string" && typeof json.code === "string";
}

// ---- statistics ------------------------------------------------------------------------------------------

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** {"200": 3, "ECONNRESET": 1} from a list of results. */
export function tally(results) {
  const counts = {};
  for (const r of results) {
    const key = r.status && !r.error ? String(r.status) : String(r.error ?? r.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
export const tallyText = (counts) => Object.entries(counts).sort().map(([k, v]) => `${k}×${v}`).join(" ");
export const is5xx = (r) => typeof r.status === "number" && r.status >= 500;

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  await Promise.all(
    range(Math.min(concurrency, count)).map(async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** mulberry32: a small seeded PRNG, so a failing hostile-input run can be replayed exactly. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

export const randomId = () => crypto.randomBytes(4).toString("hex");
