// Shutdown and restart: SIGTERM in the middle of a burst (accepted requests finish, exit 0 in time), a
// stalled client cannot hold the process, SIGKILL during signups loses no acknowledged write, and revoked
// tokens stay revoked across the restart.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { before, describe, test } from "node:test";
import { percentile, pool, range, round, tally, tallyText } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, figures, is5xx, now, SETUP_TIMEOUT_MS, sleep, startApi, tokenFrom } from "./lib.mjs";

const PASSWORD = "lifecycle-pass-1";
const ACKED_BEFORE_KILL = 40;
const HIGH_LIMITS = { RATE_LIMIT_SIGNUP_PER_IP: "1000000", RATE_LIMIT_LOGIN_PER_IP: "1000000", LOGIN_MAX_FAILURES: "1000" };

/** Sends a request and reports when it is fully on the wire. */
function tracked(api, options) {
  let written;
  const onWire = new Promise((resolve) => (written = resolve));
  const response = api.request({ ...options, onWritten: written }).then((res) => Object.assign(res, { at: now() }));
  return { onWire: Promise.race([onWire, response]), response };
}

describe("shutdown and restart", { timeout: suiteTimeLeft() }, () => {
  test("shutdown: SIGTERM mid-burst → every accepted request completes, exit 0 within SHUTDOWN_TIMEOUT_SECONDS", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const timeoutSeconds = 10;
    const api = await startApi(t, { env: { ...HIGH_LIMITS, BCRYPT_ROUNDS: "10", SHUTDOWN_TIMEOUT_SECONDS: String(timeoutSeconds) } });
    const token = tokenFrom(await api.login("user", "password"));
    assert(token, "cannot log in before the burst");

    // The burst, each request on its own connection: slow logins and signups (bcrypt at cost 10 on a
    // 2-worker pool) and quick authenticated reads.
    const fresh = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const burst = [
      ...range(32).map(() => ({ kind: "login", ...tracked(api, { method: "POST", path: "/api/authenticate", body: { uid: "user", password: "password" }, agent: fresh }) })),
      ...range(20).map((i) => ({ kind: "signup", ...tracked(api, { method: "POST", path: "/api/user", body: { uid: `drain-${i}`, name: "Drain Test", password: PASSWORD }, agent: fresh }) })),
      ...range(40).map(() => ({ kind: "read", ...tracked(api, { path: "/api/id", headers: { Cookie: `__Host-jwt_token=${token}` }, agent: fresh }) })),
    ];
    await Promise.all(burst.map((b) => b.onWire));
    // Keep-alive clients: a slow login in flight at SIGTERM, then a follow-up on the same agent as soon as
    // it is answered. The follow-up must be answered or cleanly refused, never reset: a response sent while
    // draining has to tell the client to close (Connection: close) instead of leaving it a dying socket.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const kaClients = range(8).map(() => {
      const first = tracked(api, { method: "POST", path: "/api/authenticate", body: { uid: "user", password: "password" }, agent: keepAlive });
      const followUp = first.response.then((res) => (res.status ? api.whoami(token, { agent: keepAlive }) : null));
      return { first, followUp };
    });
    await Promise.all(kaClients.map((c) => c.first.onWire));
    burst.push(...kaClients.map((c) => ({ kind: "keep-alive login", ...c.first })));
    // The server accepts connections in arrival order: once a later connection is answered, every burst
    // connection has been accepted by the API process (not just queued in the kernel).
    const marker = await api.request({ path: "/api/health", agent: fresh });
    assert(marker.status === 200, `marker request failed: ${marker.status ?? marker.error}`);
    let answered = 0;
    for (const b of burst) b.response.then(() => answered++);
    await sleep(0);
    const inFlight = burst.length - answered;

    const sigtermAt = api.kill("SIGTERM");
    // SIGTERM stops accepting: a new connection shortly after must be refused (while the burst drains).
    await sleep(100);
    const late = await api.request({ path: "/api/health", agent: fresh, timeout: 3000 });
    const results = await Promise.all(burst.map((b) => b.response));
    const lastAnswerAt = now();
    const exit = await Promise.race([api.exited, sleep((timeoutSeconds + 5) * 1000).then(() => null)]);
    const followUps = await Promise.all(kaClients.map((c) => c.followUp));
    keepAlive.destroy();

    f.accepted = burst.length;
    f.inFlightAtSigterm = inFlight;
    f.completed = results.filter((r) => r.status && !r.error).length;
    f.statuses = tallyText(tally(results));
    f.drainMs = Math.round(lastAnswerAt - sigtermAt);
    f.exitMs = exit ? Math.round(exit.at - sigtermAt) : "none";
    f.exitCode = exit ? exit.code : "still running";
    f.newConnectionAfterSigterm = late.error ?? late.status;
    const kaFirst = results.slice(-kaClients.length);
    f.keepAliveConnectionClose = `${kaFirst.filter((r) => r.headers?.connection === "close").length}/${kaFirst.length}`;
    f.keepAliveFollowUps = tallyText(tally(followUps.filter(Boolean)));

    assert(inFlight >= 10, `only ${inFlight} requests were still in flight at SIGTERM: the burst did not test draining`);
    assert(f.completed === burst.length, `${burst.length - f.completed} accepted requests got no complete response: ${f.statuses}`);
    assert(results.every((r) => (r.status === 200 || r.status === 201) && !is5xx(r)), `accepted requests failed: ${f.statuses}`);
    assert(exit && exit.code === 0, `exit code ${exit?.code} signal ${exit?.signal}`);
    assert(exit.at - sigtermAt <= timeoutSeconds * 1000, `exit took ${f.exitMs} ms (limit ${timeoutSeconds * 1000})`);
    assert(late.error === "ECONNREFUSED", `a new connection after SIGTERM was not refused: ${late.status ?? late.error}`);
    // Answered well after SIGTERM (queued behind the burst's bcrypt work), so the server was draining by then.
    const drained = kaFirst.filter((r) => r.at - sigtermAt > 300);
    assert(drained.length > 0, "no keep-alive response was answered while draining: the burst was too short");
    assert(drained.every((r) => r.headers?.connection === "close"), `responses sent while draining kept their connection alive (Connection: close on ${f.keepAliveConnectionClose}): clients reuse sockets that are being closed`);
    const resetFollowUps = followUps.filter((r) => r && r.error && r.error !== "ECONNREFUSED");
    assert(resetFollowUps.length === 0 && followUps.every((r) => r && !is5xx(r)), `keep-alive follow-ups after drained responses: ${f.keepAliveFollowUps} (expected answers or ECONNREFUSED, never a reset)`);
  });

  test("shutdown: stalled clients cannot hold SIGTERM past SHUTDOWN_TIMEOUT_SECONDS=2", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const timeoutSeconds = 2;
    const api = await startApi(t, { env: { SHUTDOWN_TIMEOUT_SECONDS: String(timeoutSeconds) } });
    const sockets = [];
    const open = (bytes) =>
      new Promise((resolve, reject) => {
        const socket = net.connect(api.port, "127.0.0.1", () => resolve(socket));
        socket.on("error", () => undefined);
        socket.once("error", reject);
        sockets.push(socket);
        if (bytes) socket.write(bytes);
      });
    // An upload that stops halfway, headers that never end, and a connection that never says anything.
    await open('POST /api/user HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{"uid":"slow');
    await open("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    await open("");
    await sleep(200);
    const sigtermAt = api.kill("SIGTERM");
    const exit = await Promise.race([api.exited, sleep((timeoutSeconds + 8) * 1000).then(() => null)]);
    for (const s of sockets) s.destroy();
    f.exitMs = exit ? Math.round(exit.at - sigtermAt) : "none";
    f.exitCode = exit ? exit.code : "still running";
    assert(exit, `still running ${timeoutSeconds + 8} s after SIGTERM`);
    assert(exit.code === 0, `exit code ${exit.code} signal ${exit.signal}`);
    // The drain deadline plus the time to close the worker pool and the database.
    assert(exit.at - sigtermAt <= timeoutSeconds * 1000 + 1000, `exit took ${f.exitMs} ms (SHUTDOWN_TIMEOUT_SECONDS=${timeoutSeconds})`);
  });

  describe("restart after SIGKILL", () => {
    // Revocations first, then a signup storm with logouts in it, kill, restart on the same file.
    const group = blockOwner();
    const sessions = {};
    const acked = [];
    const revokedAcked = [];
    let killExit;
    let second;
    let restartMs;
    before(async () => {
      const first = await startApi(group, { env: { ...HIGH_LIMITS, BCRYPT_ROUNDS: "8" } });
      for (const name of ["userA", "userB"]) sessions[name] = tokenFrom(await first.login("user", "password"));
      for (const name of ["adminA", "adminB"]) sessions[name] = tokenFrom(await first.login("admin", "password"));
      if (Object.values(sessions).some((t) => !t)) throw new Error("cannot log in the seeded accounts");
      const logout = await first.logout(sessions.userA);
      const logoutAll = await first.logout(sessions.adminA, { all: true });
      if (logout.status !== 200 || logoutAll.status !== 200) throw new Error(`logout failed: ${logout.status}, ${logoutAll.status}`);

      let killed = false;
      const signupWorker = async (w) => {
        for (let i = 0; !killed; i++) {
          const uid = `crash-${w}-${i}`;
          const res = await first.signup(uid, PASSWORD);
          if (res.status === 201) acked.push(uid);
        }
      };
      const logoutWorker = async () => {
        while (!killed) {
          const token = tokenFrom(await first.login("user", "password"));
          if (!token) continue;
          const res = await first.logout(token);
          if (res.status === 200) revokedAcked.push(token);
        }
      };
      const workers = [...range(8).map(signupWorker), ...range(2).map(logoutWorker)];
      // Kill once the storm has acknowledged enough signups to judge: each one also runs the password
      // strength check, so how many fit in a fixed time depends on the machine.
      const stormDeadline = now() + 15_000;
      await sleep(1500);
      while (acked.length < ACKED_BEFORE_KILL && now() < stormDeadline) await sleep(25);
      const killedAt = first.kill("SIGKILL");
      killExit = await first.exited;
      killed = true;
      await Promise.all(workers);
      second = await first.restart();
      restartMs = Math.round(now() - killedAt);
    }, { timeout: SETUP_TIMEOUT_MS });

    test("restart: SIGKILL during signups → every acknowledged user can log in, integrity_check ok", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
      const f = figures(t);
      f.killedBy = killExit.signal;
      f.acknowledgedSignups = acked.length;
      f.restartMs = restartMs;
      assert(acked.length >= 20, `only ${acked.length} signups were acknowledged before the kill`);
      const logins = await pool(acked.length, 6, (i) => second.login(acked[i], PASSWORD));
      f.loginsAfterRestart = `${logins.filter((r) => r.status === 200).length}/${acked.length}`;
      f.loginP99Ms = round(percentile(logins.map((r) => r.ms), 99), 0);
      const integrity = second.query("PRAGMA integrity_check", [], { all: true }).map((r) => r.integrity_check).join(",");
      const foreignKeys = second.query("PRAGMA foreign_key_check", [], { all: true }).length;
      const rows = second.query("SELECT count(*) AS n FROM User WHERE uid LIKE 'crash-%'").n;
      f.integrityCheck = integrity;
      f.foreignKeyViolations = foreignKeys;
      f.committedUnacknowledged = rows - acked.length;
      const failed = logins.map((r, i) => [acked[i], r]).filter(([, r]) => r.status !== 200);
      assert(failed.length === 0, `${failed.length} acknowledged users cannot log in, e.g. ${failed.slice(0, 3).map(([u, r]) => `${u}: ${r.status ?? r.error}`).join(", ")}`);
      assert(integrity === "ok", `integrity_check: ${integrity}`);
      assert(foreignKeys === 0, `${foreignKeys} foreign key violations`);
      assert(rows >= acked.length, `${rows} rows for ${acked.length} acknowledged signups`);
    });

    test("restart: tokens revoked before the restart stay revoked after it", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
      const f = figures(t);
      const status = async (token) => {
        const res = await second.whoami(token);
        return res.status === 401 ? res.json?.code : String(res.status ?? res.error);
      };
      f.loggedOut = await status(sessions.userA);
      f.otherSession = await status(sessions.userB);
      f.logoutAllBoth = `${await status(sessions.adminA)},${await status(sessions.adminB)}`;
      const duringStorm = await Promise.all(revokedAcked.map(status));
      f.logoutsDuringStorm = revokedAcked.length;
      f.stillRevoked = duringStorm.filter((s) => s === "TOKEN_REVOKED").length;
      assert(f.loggedOut === "TOKEN_REVOKED", `a logged-out token answers ${f.loggedOut} after restart`);
      assert(f.otherSession === "200", `a live session answers ${f.otherSession} after restart (should survive it)`);
      assert(f.logoutAllBoth === "TOKEN_REVOKED,TOKEN_REVOKED", `logout-all tokens answer ${f.logoutAllBoth} after restart`);
      assert(revokedAcked.length >= 3, `only ${revokedAcked.length} logouts were acknowledged during the storm`);
      assert(f.stillRevoked === revokedAcked.length, `${revokedAcked.length - f.stillRevoked} acknowledged logouts were lost: ${tallyText(tally(duringStorm.map((s) => ({ status: s }))))}`);
    });
  });
});
