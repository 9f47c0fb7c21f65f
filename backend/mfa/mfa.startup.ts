// The start-up check of two-factor (docs/two-factor.md › Secrets at rest): a server that could not open the
// secrets of accounts with two-factor on would lock those people out (or tempt someone to skip the check), so
// it refuses to start instead, naming the variable to set. Without any such account it starts: enrolment then
// answers 503 MFA_UNAVAILABLE.
import type { Config } from "../config";
import { ConfigError } from "../config";
import type { Db } from "../db";

export async function refuseUnreadableFactors(config: Pick<Config, "dataKeys">, db: Pick<Db, "prisma">): Promise<void> {
  const enabled = { confirmedAt: { not: null } };
  const accounts = (n: number) => (n === 1 ? "1 account has" : `${n} accounts have`);
  if (!config.dataKeys) {
    const n = await db.prisma.totpFactor.count({ where: enabled });
    if (n > 0) {
      throw new ConfigError([
        `DATA_ENCRYPTION_KEY: ${accounts(n)} two-factor authentication on, and their secrets are sealed with this key: without it nobody's codes could be checked. Set DATA_ENCRYPTION_KEY to the key they were sealed with (or turn their two-factor off first: npm run user -- reset-2fa <uid>).`,
      ]);
    }
    return;
  }
  const known = [config.dataKeys.current, ...config.dataKeys.previous].map((k) => `v1.${k.id}.`);
  const n = await db.prisma.totpFactor.count({ where: { ...enabled, AND: known.map((prefix) => ({ NOT: { secretSealed: { startsWith: prefix } } })) } });
  if (n > 0) {
    throw new ConfigError([
      `DATA_ENCRYPTION_PREVIOUS_KEYS: ${accounts(n)} two-factor authentication on with secrets sealed by a key that is neither DATA_ENCRYPTION_KEY nor one of DATA_ENCRYPTION_PREVIOUS_KEYS. Add the key they were sealed with to DATA_ENCRYPTION_PREVIOUS_KEYS (comma-separated), or reset their two-factor: npm run user -- reset-2fa <uid>.`,
    ]);
  }
}
