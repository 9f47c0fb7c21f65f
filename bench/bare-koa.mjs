// The framework's floor for the bench: a bare Koa app answering GET /api/health's JSON, nothing else (no
// middleware, no database). Run the same way as the API (same node, production, one process on loopback),
// it shows what crossauth adds over Koa itself. On /with-headers it also sends the headers every crossauth
// answer carries (SPEC's security headers, Vary: Origin, a request id), so the bench can tell the cost of
// those headers from the cost of the rest. On /end-of-turn it writes its answers when the event loop's turn
// ends, as crossauth does (backend/http/end-of-turn.ts), so the bench can tell what that alone is worth.
// Usage: node bench/bare-koa.mjs <port> '<json body>'
import crypto from "node:crypto";
import Koa from "koa";
// The API's own list (npm run bench builds dist/ first), so this slice cannot drift from what crossauth sends.
import { SECURITY_HEADERS } from "../dist/backend/middleware/security-headers.js";

const HEADERS = { ...SECURITY_HEADERS, Vary: "Origin" };

const [port, body] = process.argv.slice(2);
const json = JSON.parse(body);
let turn = null;
const endOfTurn = () => (turn ??= new Promise((resolve) => setImmediate(() => ((turn = null), resolve()))));

const app = new Koa();
app.use((ctx, next) => (ctx.path === "/end-of-turn" ? next().then(endOfTurn) : next()));
app.use((ctx) => {
  if (ctx.path === "/with-headers") {
    ctx.set(HEADERS);
    ctx.set("X-Request-Id", crypto.randomUUID());
  }
  ctx.body = json;
});
app.listen(Number(port), "127.0.0.1", () => console.log(`bare koa on ${port}`));
process.once("SIGTERM", () => process.exit(0));
