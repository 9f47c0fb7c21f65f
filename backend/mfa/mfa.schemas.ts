// Request schemas of the two-factor routes (docs/two-factor.md › Routes). Strict: unknown fields are an error.
import { z } from "zod";

// Long enough for a recovery code typed with spaces; the check itself decides what is right.
const code = z.string({ message: "must be a string" }).trim().min(1, { message: "is required" }).max(64, { message: "is too long" });
const currentPassword = z.string({ message: "must be a string" }).max(1024, { message: "is too long" });

export const setupBody = z.strictObject({ currentPassword: currentPassword.optional() });
export const confirmBody = z.strictObject({ code });
/** `code`: the authenticator's code, or a recovery code. */
export const disableBody = z.strictObject({ currentPassword: currentPassword.optional(), code });
export const recoveryCodesBody = z.strictObject({ code });

/** The login's second step: exactly one of `code` and `recoveryCode`. */
export const secondStepBody = z
  .strictObject({ code: code.optional(), recoveryCode: code.optional() })
  .refine((body) => (body.code === undefined) !== (body.recoveryCode === undefined), { message: "send either code or recoveryCode", path: ["code"] });

/** A value typed into one `code` field: six digits are a TOTP code, anything else is tried as a recovery code. */
export const asSecondFactor = (typed: string) => (/^\d{6}$/.test(typed.replace(/\s+/g, "")) ? { code: typed } : { recoveryCode: typed });
