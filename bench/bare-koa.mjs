// The framework's floor for the bench: a bare Koa app answering GET /api/health's JSON, nothing else (no
// middleware, no database). Run the same way as the API (same node, production, one process on loopback),
// it shows what crossauth adds over Koa itself. Usage: node bench/bare-koa.mjs <port> '<json body>'
import Koa from "koa";

const [port, body] = process.argv.slice(2);
const json = JSON.parse(body);
const app = new Koa();
app.use((ctx) => {
  ctx.body = json;
});
app.listen(Number(port), "127.0.0.1", () => console.log(`bare koa on ${port}`));
process.once("SIGTERM", () => process.exit(0));
