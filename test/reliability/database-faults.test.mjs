// Database faults: another process locks the SQLite file while the API serves traffic. Requests must get
// 503 UNAVAILABLE (or succeed once the lock clears within the busy timeout), never a 500, never an
// authenticated 200 unless the database answered, and everything must work again once the lock is gone.
//
// What actually blocks what (WAL mode, which the API sets): every open connection keeps a SHARED lock on
// the database file, so while the API runs another process cannot take `locking_mode=EXCLUSIVE` at all (it
// gets SQLITE_BUSY). `BEGIN EXCLUSIVE` from another process takes the one WAL writer lock: the API's writes
// wait for the busy timeout and then fail, while its reads keep answering from the last committed snapshot.
import assert from "node:assert/strict";
import path from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { median, percentile, range, round, tally, tallyText } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, figures, isErrorBody, now, SETUP_TIMEOUT_MS, sleep, spawnNode, startApi, tokenFrom } from "./lib.mjs";

const LOCKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "db-locker.mjs");
const BUSY_TIMEOUT_MS = 2000; // backend/db.ts
const PASSWORD = "fault-pass-1";

function startLocker(t, api, mode, holdMs) {
  const child = spawnNode(t, LOCKER, [api.dbFile, mode, String(holdMs)]);
  const lines = [];
  const waiters = [];
  let buffer = "";
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    for (let i; (i = buffer.indexOf("\n")) >= 0; ) {
      lines.push({ ...JSON.parse(buffer.slice(0, i)), at: now() });
      buffer = buffer.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  // Resolves the n-th line, or null when the locker exits without printing it.
  const line = (n) =>
    new Promise((resolve) => {
      const check = () => (lines.length > n ? resolve(lines[n]) : child.exitCode !== null ? resolve(null) : waiters.push(check));
      child.once("exit", () => setTimeout(check, 10));
      check();
    });
  return { first: line(0), released: line(1), exited: new Promise((resolve) => child.once("exit", resolve)) };
}

/** The oracle: can a fresh connection in another process read the file right now (no waiting)? */
function databaseReadable(file) {
  let db;
  try {
    db = new Database(file, { readonly: true, timeout: 0 });
    db.prepare("SELECT count(*) FROM User").get();
    return true;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** Every answer is a success, or 503 UNAVAILABLE in the error shape (docs/api.md › Errors); anything else is listed. */
function badAnswers(results, okStatuses) {
  return results.filter((r) => !(okStatuses.includes(r.status) || (r.status === 503 && isErrorBody(r.json) && r.json.code === "UNAVAILABLE")));
}

/** Reads GET /api/id and /api/health every 50 ms until `until()`; each result is stamped with its send time. */
async function pollReads(api, token, until) {
  const reads = [];
  while (!until()) {
    const sentAt = now();
    const [id, health] = await Promise.all([api.whoami(token), api.request({ path: "/api/health" })]);
    reads.push({ ...id, route: "id", sentAt }, { ...health, route: "health", sentAt });
    await sleep(50);
  }
  return reads;
}

describe("database", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let api;
  before(async () => {
    api = await startApi(group, {
      env: { BCRYPT_ROUNDS: "8", RATE_LIMIT_SIGNUP_PER_IP: "1000000", RATE_LIMIT_LOGIN_PER_IP: "1000000", LOGIN_MAX_FAILURES: "1000" },
    });
  }, { timeout: SETUP_TIMEOUT_MS });

  test("database: another process holds the write lock (BEGIN EXCLUSIVE) → writes 503 or wait, reads answer, no 500, full recovery", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const holdMs = 5000;
    const reader = tokenFrom(await api.login("user", "password"));
    const toLogout = tokenFrom(await api.login("user", "password"));
    // Logouts are transactions; they race plain signups on the API's one Prisma connection.
    const sessions = [];
    for (const i of range(4)) sessions.push(tokenFrom(await api.login("user", "password")));
    const before = (await api.whoami(reader)).json;
    assert(reader && toLogout && sessions.every(Boolean) && before?.uid === "user", "cannot log in before the fault");

    const locker = startLocker(t, api, "write", holdMs);
    const held = await locker.first;
    assert(held?.held, `the locker could not take the write lock: ${held.code} ${held.message}`);
    const lockedAt = held.at;
    f.otherProcess = `BEGIN EXCLUSIVE held ${holdMs} ms`;
    f.readersBlocked = !databaseReadable(api.dbFile);
    let released = null;
    locker.released.then((r) => (released = r ?? { at: now() }));

    const readsDone = pollReads(api, reader, () => released !== null);
    const writes = await Promise.all([
      ...range(3).map((i) => api.signup(`locked-${i}`, PASSWORD).then((r) => ({ ...r, uid: `locked-${i}` }))),
      api.request({ method: "PUT", path: "/api/user", headers: { Cookie: `__Host-jwt_token=${reader}` }, body: { name: "Renamed During Lock" } }),
      api.logout(toLogout),
      sleep(holdMs - 800).then(() => api.signup("locked-late", PASSWORD).then((r) => ({ ...r, uid: "locked-late" }))),
      ...sessions.map((token, i) => sleep(holdMs - 1500 + i * 150).then(() => api.logout(token).then((r) => ({ ...r, session: token })))),
      ...range(4).map((i) => sleep(holdMs - 1400 + i * 150).then(() => api.signup(`locked-mix-${i}`, PASSWORD).then((r) => ({ ...r, uid: `locked-mix-${i}` })))),
    ]);
    const login = await api.login("user", "password");
    await locker.exited;
    await sleep(10);
    const releasedAt = released.at;
    const reads = await readsDone;

    // Recovery: every kind of request works again soon after the lock is gone.
    let recoveredAt = null;
    let lastRecovery = [];
    for (let attempt = 0; attempt < 40 && recoveredAt === null; attempt++) {
      lastRecovery = await Promise.all([
        api.signup(`after-lock-${attempt}`, PASSWORD),
        api.whoami(reader),
        api.request({ path: "/api/health" }),
        api.login("user", "password"),
      ]);
      if (lastRecovery.every((r) => r.status === 200 || r.status === 201)) recoveredAt = now();
      else await sleep(100);
    }
    const logoutAfter = await api.logout(toLogout);
    const revokedAfter = await api.whoami(toLogout);
    const after = (await api.whoami(reader)).json;

    const inWindow = reads.filter((r) => r.sentAt >= lockedAt && r.sentAt < releasedAt);
    const idReads = inWindow.filter((r) => r.route === "id");
    const writeResults = writes;
    const writes503 = writeResults.filter((r) => r.status === 503);
    f.reads = inWindow.length;
    f.readStatuses = tallyText(tally(inWindow));
    f.readP50Ms = round(median(inWindow.map((r) => r.ms)), 0);
    f.readMaxMs = round(Math.max(...inWindow.map((r) => r.ms)), 0);
    f.writeStatuses = tallyText(tally(writeResults));
    f.write503WaitMs = writes503.length ? round(median(writes503.map((r) => r.ms)), 0) : "none";
    f.lateWrite = writeResults[5].status ?? writeResults[5].error;
    f.loginDuringLock = login.status;
    f.recoveryMs = recoveredAt === null ? "never" : round(Math.max(0, recoveredAt - releasedAt), 0);

    const all = [...reads, ...writeResults, login, ...lastRecovery];
    const fivehundreds = all.filter((r) => r.status >= 500 && r.status !== 503);
    assert(fivehundreds.length === 0, `5xx other than 503: ${tallyText(tally(fivehundreds))}`);
    assert(all.every((r) => !r.error), `requests without an answer: ${tallyText(tally(all.filter((r) => r.error)))}`);
    const badReads = badAnswers(reads, [200]);
    assert(badReads.length === 0, `reads answered ${tallyText(tally(badReads))}`);
    const badWrites = badAnswers(writeResults, [200, 201]);
    assert(badWrites.length === 0, `writes answered ${tallyText(tally(badWrites))}`);
    // Waiting writes must not freeze the process: reads (and health checks) keep answering meanwhile.
    f.readP99Ms = round(percentile(inWindow.map((r) => r.ms), 99), 0);
    assert(idReads.length >= 20 && f.readP99Ms < 500, `the API froze while writes waited for the lock: ${idReads.length} reads in ${holdMs} ms, p99 ${f.readP99Ms} ms, max ${f.readMaxMs} ms`);
    if (f.readersBlocked) {
      assert(idReads.every((r) => r.status !== 200), "GET /api/id answered 200 while the database could not be read");
    } else {
      // WAL: the database answers reads during the lock, so refusing them would be a spurious outage.
      assert(inWindow.every((r) => r.status === 200), `reads were refused although the database could answer them: ${f.readStatuses}`);
    }
    assert(writes503.length >= 1, `no write was refused: the lock had no effect (${f.writeStatuses})`);
    assert(writes503.every((r) => r.ms >= BUSY_TIMEOUT_MS - 100), `a write was refused before the busy timeout (${BUSY_TIMEOUT_MS} ms): ${writes503.map((r) => Math.round(r.ms)).join(",")} ms`);
    assert(login.status === 200, `login (read-only) failed during the lock: ${login.status}`);
    assert(recoveredAt !== null && recoveredAt - releasedAt < 3000, `not recovered 3 s after the lock was released: ${tallyText(tally(lastRecovery))}`);
    // Nothing changed for a refused write; everything acknowledged is there.
    for (const w of writeResults.filter((r) => r.uid)) {
      const exists = api.query("SELECT count(*) AS n FROM User WHERE uidKey = ?", [w.uid]).n === 1;
      assert(exists === (w.status === 201), `signup ${w.uid} answered ${w.status} but the row ${exists ? "exists" : "is missing"}`);
    }
    for (const w of writeResults.filter((r) => r.session)) {
      const now = await api.whoami(w.session);
      const revoked = now.json?.code === "TOKEN_REVOKED";
      assert(revoked === (w.status === 200), `a logout answered ${w.status} but the session is ${revoked ? "revoked" : `still answering ${now.status}`}`);
    }
    const renamed = writeResults[3].status === 200;
    assert(after?.name === (renamed ? "Renamed During Lock" : before.name), `PUT /api/user answered ${writeResults[3].status} but the name is now '${after?.name}'`);
    assert(logoutAfter.status === 200 && revokedAfter.json?.code === "TOKEN_REVOKED", `logout after recovery: ${logoutAfter.status}, token then ${revokedAfter.status} ${revokedAfter.json?.code}`);
  });

  test("database: another process asks for locking_mode=EXCLUSIVE → it cannot starve the API (no 500, no 200 without the database)", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const reader = tokenFrom(await api.login("user", "password"));
    assert(reader, "cannot log in before the fault");
    const holdMs = 4000;
    const startedAt = now();
    const locker = startLocker(t, api, "exclusive", holdMs);
    let outcome = null;
    let finished = false;
    locker.first.then((r) => (outcome = r ?? { held: false, code: "no answer" }));
    locker.exited.then(() => (finished = true));
    // Traffic while the other process tries (its busy timeout is 1 s) and, if it succeeds, holds the lock.
    const traffic = [];
    for (let i = 0; !finished && now() - startedAt < holdMs + 8000; i++) {
      const readable = databaseReadable(api.dbFile);
      const [id, signup] = await Promise.all([api.whoami(reader), api.signup(`exclusive-${i}`, PASSWORD)]);
      traffic.push({ ...id, route: "id", readable }, { ...signup, route: "signup", readable });
      await sleep(50);
    }
    await locker.exited;
    f.otherProcess = outcome.held ? "took the EXCLUSIVE lock" : `refused with ${outcome.code} (the API's WAL connections hold SHARED locks)`;
    f.requests = traffic.length;
    f.statuses = tallyText(tally(traffic));
    const fivehundreds = traffic.filter((r) => r.status >= 500 && r.status !== 503);
    assert(fivehundreds.length === 0, `5xx other than 503: ${tallyText(tally(fivehundreds))}`);
    const unanswered = traffic.filter((r) => r.error);
    assert(unanswered.length === 0, `requests without an answer: ${tallyText(tally(unanswered))}`);
    const blind = traffic.filter((r) => r.route === "id" && r.status === 200 && r.readable === false);
    assert(blind.length === 0, `${blind.length} authenticated 200s while the database could not be read`);
    assert(badAnswers(traffic, [200, 201]).length === 0, `unexpected answers: ${f.statuses}`);
    if (!outcome.held) assert(traffic.every((r) => r.status === 200 || r.status === 201), `the failed attempt disturbed the API: ${f.statuses}`);
    const recovery = await Promise.all([api.whoami(reader), api.signup("exclusive-after", PASSWORD)]);
    f.afterwards = tallyText(tally(recovery));
    assert(recovery[0].status === 200 && recovery[1].status === 201, `not working afterwards: ${f.afterwards}`);
  });
});
