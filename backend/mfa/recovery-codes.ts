// Recovery codes (docs/two-factor.md › Recovery codes): ten single-use codes of 10 Crockford base32 characters
// (50 random bits), shown as `XXXXX-XXXXX`. Stored as HMAC-SHA-256 under the factor's own sealed key, so a dump
// of the database alone cannot be searched for them the way a plain hash of 50 bits could.
import crypto from "node:crypto";

export const RECOVERY_CODE_COUNT = 10;
const LENGTH = 10;
// Crockford's alphabet: no I, L, O or U, so what people copy by hand reads back unambiguously.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A fresh set of codes, as shown to the person. */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    const bytes = crypto.randomBytes(LENGTH);
    // 32 symbols: the low 5 bits of each byte are uniform.
    const code = Array.from(bytes, (b) => ALPHABET[b & 31]).join("");
    codes.add(`${code.slice(0, 5)}-${code.slice(5)}`);
  }
  return [...codes];
}

/**
 * What a person typed, in the form that is hashed: case, spaces and dashes do not matter, and the letters
 * Crockford reads as digits (O → 0, I and L → 1) are read so. Null when it cannot be a recovery code.
 */
export function normaliseRecoveryCode(typed: string): string | null {
  const compact = typed.toUpperCase().replace(/[\s-]+/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  return compact.length === LENGTH && [...compact].every((c) => ALPHABET.includes(c)) ? compact : null;
}

export function hashRecoveryCode(key: Buffer, normalised: string): string {
  return crypto.createHmac("sha256", key).update(normalised).digest("hex");
}
