// writeAtEndOfTurn holds each answer until the event loop's turn ends, so answers finished in one turn are
// written back to back. It must hold them that long and no longer, keep their order, and leave errors alone.
// No database: it runs once, in the SQLite pass.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Koa from "koa";
import { writeAtEndOfTurn } from "../../backend/http/end-of-turn";

const ctx = {} as Koa.Context;

describe("writeAtEndOfTurn", () => {
  it("writes the answer after the immediates queued while it was made, not before", async () => {
    const events: string[] = [];
    const app = new Koa();
    app.use(writeAtEndOfTurn);
    app.use((c) => {
      setImmediate(() => events.push("immediate queued by the handler"));
      const end = c.res.end.bind(c.res) as (...args: unknown[]) => http.ServerResponse;
      c.res.end = ((...args: unknown[]) => (events.push("answer written"), end(...args))) as typeof c.res.end;
      c.body = { ok: true };
    });
    const server = http.createServer(app.callback()).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        expect([res.status, await res.json()]).toEqual([200, { ok: true }]);
      }
      // Written at once, each answer would come before its handler's immediate.
      expect(events).toEqual(Array.from({ length: 5 }, () => ["immediate queued by the handler", "answer written"]).flat());
      // Many at once: every one answered, in full.
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => [r.status, await r.json()])),
      );
      expect(answers).toEqual(Array.from({ length: 20 }, () => [200, { ok: true }]));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("releases the answers of one turn together, in the order they finished, after one immediate", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("earlier immediate"));
    const a = writeAtEndOfTurn(ctx, async () => undefined).then(() => order.push("first"));
    const b = writeAtEndOfTurn(ctx, async () => undefined).then(() => order.push("second"));
    await Promise.resolve();
    expect(order).toEqual([]);
    await Promise.all([a, b]);
    expect(order).toEqual(["earlier immediate", "first", "second"]);
    // The next turn gets a fresh release, not the spent one.
    let third = false;
    const c = writeAtEndOfTurn(ctx, async () => undefined).then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    await c;
    expect(third).toBe(true);
  });

  it("passes a failure straight through, for Koa to answer", async () => {
    await expect(writeAtEndOfTurn(ctx, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
  });
});
