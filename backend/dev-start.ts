// `npm start`: the API on PORT and the static frontend on FRONTEND_PORT (a separate origin, as deployed),
// with both URLs and the demo logins printed.
import type { AddressInfo } from "node:net";
import path from "node:path";
import pino from "pino";
import { loadConfig, readEnvironment, PROJECT_ROOT } from "./config";
import { createFrontendServer } from "./frontend-server";
import { exitOnStartupFailure, startApi } from "./server";

async function main() {
  const config = loadConfig(readEnvironment());
  const logger = pino({ level: config.logLevel });
  const api = await startApi(config, logger);
  // The pages find an API on port 8587 by themselves; any other port is written into their api-uri tag.
  const apiUrl = config.port === 8587 ? undefined : api.url.replace("127.0.0.1", "localhost");
  const frontend = createFrontendServer({ root: path.join(PROJECT_ROOT, "frontend"), apiUrl });
  await new Promise<void>((resolve, reject) => {
    frontend.once("error", reject);
    frontend.listen(config.frontendPort, config.host, resolve);
  });
  const host = config.host === "127.0.0.1" || config.host === "0.0.0.0" ? "localhost" : config.host;
  const frontendUrl = `http://${host}:${(frontend.address() as AddressInfo).port}`;
  const lines = [
    "",
    "crossauth is running",
    `  frontend  ${frontendUrl}   (open this)`,
    `  API       ${api.url}/api   (try ${api.url}/api/health)`,
    `  origins   ${config.allowedOrigins.join(", ")}`,
  ];
  if (config.seedAdmin) lines.push(`  logins    ${config.seedAdmin.uid} / ${config.env === "production" ? "(ADMIN_PASSWORD)" : config.seedAdmin.password}  (Admin)`);
  if (config.demoUsers) lines.push("            user / password  (User)");
  for (const warning of config.loudWarnings) lines.push(`  !! DANGER: ${warning}`);
  lines.push("  Ctrl-C stops both.", "");
  console.log(lines.join("\n"));

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      frontend.close();
      frontend.closeAllConnections();
      api.shutdown().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

main().catch(exitOnStartupFailure);
