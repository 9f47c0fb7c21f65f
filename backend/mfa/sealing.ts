// Secrets at rest (docs/two-factor.md › Secrets at rest): AES-256-GCM with DATA_ENCRYPTION_KEY, never a key
// derived from the JWT secret. A sealed value is `v1.<kid>.<iv>.<tag>.<ciphertext>` (base64url parts): the kid
// names the key without revealing it, so older keys (DATA_ENCRYPTION_PREVIOUS_KEYS) still open what they sealed
// and the caller re-seals it with the current key.
import crypto from "node:crypto";
import type { Config } from "../config";

export type DataKeys = NonNullable<Config["dataKeys"]>;

const VERSION = "v1";
const IV_BYTES = 12; // GCM's standard nonce: random per seal, so one key can seal ~2^32 values safely
const TAG_BYTES = 16;

/** A sealed value that cannot be opened: unknown key, wrong associated data, or tampered bytes. */
export class UnsealError extends Error {
  constructor(
    message: string,
    readonly reason: "format" | "unknown_key" | "corrupt",
  ) {
    super(message);
    this.name = "UnsealError";
  }
}

/** The kid a sealed value names, or null when it is not one of ours. */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split(".");
  return parts.length === 5 && parts[0] === VERSION ? parts[1] : null;
}

export function createSealer(keys: DataKeys) {
  const byId = new Map([keys.current, ...keys.previous].map((k) => [k.id, k.key]));

  return {
    currentKeyId: keys.current.id,
    knownKeyIds: [...byId.keys()],

    /**
     * Seals `plaintext`; `associatedData` (such as "totp:<userId>") is authenticated but not stored, so a value
     * copied into another user's row, or another column, does not open there.
     */
    seal(plaintext: Buffer, associatedData: string): string {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv("aes-256-gcm", keys.current.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(associatedData, "utf8"));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const b64 = (b: Buffer) => b.toString("base64url");
      return [VERSION, keys.current.id, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join(".");
    },

    /** The plaintext, and whether it was sealed with an older key (then the caller seals it again). */
    open(sealed: string, associatedData: string): { plaintext: Buffer; stale: boolean } {
      const parts = sealed.split(".");
      if (parts.length !== 5 || parts[0] !== VERSION) throw new UnsealError("not a sealed value of a known version", "format");
      const [, kid, iv, tag, ciphertext] = parts;
      const key = byId.get(kid);
      if (!key) {
        throw new UnsealError(
          `sealed with key ${kid}, which is neither DATA_ENCRYPTION_KEY nor one of DATA_ENCRYPTION_PREVIOUS_KEYS: add the key it was sealed with to DATA_ENCRYPTION_PREVIOUS_KEYS`,
          "unknown_key",
        );
      }
      try {
        const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(associatedData, "utf8"));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]);
        return { plaintext, stale: kid !== keys.current.id };
      } catch {
        throw new UnsealError("the sealed value does not open with its key (tampered, or moved to another row)", "corrupt");
      }
    },
  };
}

export type Sealer = ReturnType<typeof createSealer>;
