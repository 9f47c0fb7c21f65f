// The admin CLI (`npm run user -- …`) run as a real process against a real SQLite file.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../backend/config";
import { dialect, expectError, freshDatabaseUrl, loginAs, makeTestApp, testRedisUrl } from "./helpers";

const run = promisify(execFile);
const tsx = path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
const cliPath = path.join(PROJECT_ROOT, "backend", "cli", "user.ts");

/** The CLI's environment: the test database, and on PostgreSQL runs the Redis the apps share (as in production). */
const cliEnv = (databaseUrl: string) => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  BCRYPT_ROUNDS: "4",
  ...(dialect === "postgres" ? { REDIS_URL: testRedisUrl() } : {}),
});

async function cli(databaseUrl: string, args: string[]) {
  return run(process.execPath, [tsx, cliPath, ...args], { cwd: PROJECT_ROOT, env: cliEnv(databaseUrl) }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

it("creates an admin (password from stdin), changes roles, resets passwords and deletes, as the API sees it", async () => {
  const databaseUrl = await freshDatabaseUrl();
  const created = await new Promise<{ code: number; stdout: string }>((resolve) => {
    const child = execFile(process.execPath, [tsx, cliPath, "create", "Alice", "--name", "Alice Admin", "--role", "Admin"], {
      cwd: PROJECT_ROOT,
      env: cliEnv(databaseUrl),
    }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
    child.stdin?.end("marble-canyon-41\n");
  });
  expect(created).toMatchObject({ code: 0 });
  expect(created.stdout).toMatch(/created Alice \(Admin/);

  const t = await makeTestApp({ DEMO_USERS: "false", ADMIN_UID: "root", ADMIN_PASSWORD: "root-password" }, { databaseUrl });
  try {
    const alice = await loginAs(t, "alice", "marble-canyon-41");
    expect((await t.http().get("/api/id").set("Cookie", alice)).body).toMatchObject({ uid: "Alice", role: "Admin" });

    expect((await cli(databaseUrl, ["set-role", "alice", "User"])).stdout).toMatch(/alice is now User/i);
    expectError(await t.http().get("/api/id").set("Cookie", alice), 401, "TOKEN_REVOKED");

    expect((await cli(databaseUrl, ["set-password", "alice", "--password", "quiet-harbor-73"])).code).toBe(0);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: "quiet-harbor-73" })).status).toBe(200);

    const refused = await cli(databaseUrl, ["set-password", "alice", "--password", "short"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/VALIDATION_FAILED: .*password must be at least 8 characters/);

    expect((await cli(databaseUrl, ["list"])).stdout).toMatch(/Alice[\s\S]*root/);
    expect((await cli(databaseUrl, ["delete", "alice"])).code).toBe(0);
    expect((await t.http().post("/api/authenticate").send({ uid: "alice", password: "quiet-harbor-73" })).status).toBe(401);
    expect((await cli(databaseUrl, ["delete", "alice"])).stderr).toMatch(/USER_NOT_FOUND/);
  } finally {
    await t.close();
  }
}, 60_000);

it("prints usage and exits 2 for an unknown command", async () => {
  const res = await cli(await freshDatabaseUrl(), ["frobnicate"]);
  expect(res.code).toBe(2);
  expect(res.stderr).toMatch(/unknown command 'frobnicate'[\s\S]*Usage: npm run user/);
});

describe("passwords", () => {
  it("refuses a guessable password with the API's rule, and warns when one is given on the command line", async () => {
    const databaseUrl = await freshDatabaseUrl();
    const weak = await cli(databaseUrl, ["create", "carol", "--name", "Carol", "--password", "12345678"]);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/warning: a password given on the command line is visible to other users/);
    expect(weak.stderr).toMatch(/VALIDATION_FAILED: Some fields are invalid: password is one of the most used passwords/);
  });

  it("reads a password from standard input verbatim: spaces around it are part of it", async () => {
    const databaseUrl = await freshDatabaseUrl();
    const created = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [tsx, cliPath, "create", "dave", "--name", "Dave"], {
        cwd: PROJECT_ROOT,
        env: cliEnv(databaseUrl),
      }, (err, _stdout, stderr) => resolve({ code: err ? 1 : 0, stderr }));
      child.stdin?.end("  spaced harbor 77  \n");
    });
    expect(created).toMatchObject({ code: 0 });
    expect(created.stderr).not.toMatch(/warning/);
    const t = await makeTestApp({}, { databaseUrl });
    try {
      expect((await t.http().post("/api/authenticate").send({ uid: "dave", password: "spaced harbor 77" })).status).toBe(401);
      expect((await t.http().post("/api/authenticate").send({ uid: "dave", password: "  spaced harbor 77  " })).status).toBe(200);
    } finally {
      await t.close();
    }
  }, 30_000);

  it("asks twice on a terminal and never echoes what is typed", async () => {
    const databaseUrl = await freshDatabaseUrl();
    // A pseudo-terminal (Python's pty module) stands in for a person at a shell.
    const script = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read_until(marker, limit=30):
    global out
    end = time.time() + limit
    while marker not in out and time.time() < end:
        try:
            out += os.read(fd, 1024)
        except OSError:
            break
read_until(b"Password: ")
os.write(fd, b"tidal-meadow-29\\r")
read_until(b"Repeat the password: ")
os.write(fd, b"tidal-meadow-29\\r")
read_until(b"created erin")
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const result = await run("python3", ["-c", script, process.execPath, tsx, cliPath, "create", "erin", "--name", "Erin"], {
      cwd: PROJECT_ROOT,
      env: cliEnv(databaseUrl),
      timeout: 40_000,
    });
    expect(result.stdout).toMatch(/Password: [\s\S]*Repeat the password: [\s\S]*created erin/);
    expect(result.stdout).not.toContain("tidal-meadow-29");
    const t = await makeTestApp({}, { databaseUrl });
    try {
      expect((await t.http().post("/api/authenticate").send({ uid: "erin", password: "tidal-meadow-29" })).status).toBe(200);
    } finally {
      await t.close();
    }
  }, 45_000);
});

it("reads the same configuration as the server, refusals included", async () => {
  const res = await run(process.execPath, [tsx, cliPath, "list"], {
    cwd: PROJECT_ROOT,
    env: { ...cliEnv(await freshDatabaseUrl()), ALLOWED_ORIGINS: "*" },
  }).catch((err: { code: number; stderr: string }) => err);
  expect(res).toMatchObject({ code: 2 });
  expect((res as { stderr: string }).stderr).toMatch(/ALLOWED_ORIGINS: '\*' is not allowed/);
});
