// `npm run doctor [-- --api <url>] [--frontend <origin>]… [--uid <uid> --password <pw>] [--json]`: prints the
// report and exits 0 when nothing is broken (✖), 1 otherwise, 2 for arguments it cannot use.
import { parseArgs } from "node:util";
import { ConfigError, readEnvironment } from "../config";
import { DoctorUsageError, runDoctor } from "./doctor";
import { hasFailures } from "./report";
import { renderJson, renderText } from "./render";

const USAGE = `Usage: npm run doctor [-- --api <url>] [--frontend <origin>]… [--uid <uid> --password <pw>] [--json]

  --api <url>          the API as the pages call it (default: http://HOST:PORT from the configuration)
  --frontend <origin>  a page's origin, repeatable (default: every ALLOWED_ORIGINS entry)
  --uid, --password    the account to log in and out with (default: DOCTOR_UID / DOCTOR_PASSWORD;
                       in development the demo account user/password). The doctor never signs up.
  --json               one JSON document instead of lines, for CI

Reads the same configuration as the API (the environment over .env). Exit status 0 when no check is ✖.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: "string" },
      frontend: { type: "string", multiple: true },
      uid: { type: "string" },
      password: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.password !== undefined) {
    console.error("warning: a password given on the command line is visible to other users of this machine (ps) and stays in your shell history; prefer DOCTOR_PASSWORD");
  }
  // A missing CROSSAUTH_ENV_FILE is one more refusal to report, not a crash: the process environment remains.
  let env = process.env;
  let environmentProblems: string[] = [];
  try {
    env = readEnvironment();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    environmentProblems = err.problems;
  }
  const report = await runDoctor({ env, environmentProblems, api: values.api, frontends: values.frontend, uid: values.uid, password: values.password });
  console.log(values.json ? renderJson(report) : renderText(report));
  return hasFailures(report) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof DoctorUsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`crossauth doctor: ${err instanceof Error ? err.message : String(err)}${usage ? `\n\n${USAGE}` : ""}`);
    process.exitCode = usage ? 2 : 1;
  },
);
