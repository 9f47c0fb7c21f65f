// Request schemas of the user routes (docs/api.md › Routes). Strict: unknown fields are an error.
import { z } from "zod";
import { shapeProblem } from "../auth/password-policy";
import { ROLES } from "./user.model";

export const uid = z
  .string({ message: "must be a string" })
  .min(2, { message: "must be 2 to 39 characters" })
  .max(39, { message: "must be 2 to 39 characters" })
  .regex(/^[A-Za-z0-9_.-]+$/, { message: "may contain only letters, digits, '_', '.' and '-'" });

const name = z
  .string({ message: "must be a string" })
  .trim()
  .min(2, { message: "must be 2 to 100 characters" })
  .max(100, { message: "must be 2 to 100 characters" });

// "" clears the field, so a form's empty email input means "no email".
const email = z
  .union([z.literal("").transform(() => null), z.null(), z.email({ message: "must be a valid email address" }).max(254)])
  .optional();

/**
 * The cheap half of the password rule (length and bytes); the guessability half runs in the workers when the
 * password is hashed (users.service.ts), so no route can store a password without the whole rule.
 */
export const password = z.string({ message: "must be a string" }).superRefine((value, ctx) => {
  const problem = shapeProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const currentPassword = z.string({ message: "must be a string" }).max(1024, { message: "is too long" });

/**
 * Profile fields the flask_2025 template's own pages send on signup and profile edits. Accepted and ignored,
 * so those pages work unchanged; every other unknown field is still refused.
 */
const ignored = z.unknown().optional();
const FLASK_2025_PROFILE_FIELDS = { kasm_server_needed: ignored, kasmServerNeeded: ignored, sid: ignored, dob: ignored, pfp: ignored };
const withoutFlask2025Fields = <T extends Record<string, unknown>>(body: T) => {
  const kept: Record<string, unknown> = { ...body };
  for (const field of Object.keys(FLASK_2025_PROFILE_FIELDS)) delete kept[field];
  return kept as Omit<T, keyof typeof FLASK_2025_PROFILE_FIELDS>;
};

const role = z.enum(ROLES, { message: "must be User or Admin" });

export const signupBody = z
  .strictObject({ uid, name, password, email, ...FLASK_2025_PROFILE_FIELDS })
  .transform(withoutFlask2025Fields);

export const selfUpdateBody = z
  .strictObject({ uid, name, email, password, currentPassword, role, ...FLASK_2025_PROFILE_FIELDS })
  .partial()
  .transform(withoutFlask2025Fields);

// `currentPassword` only matters when admins edit their own account, which needs it like PUT /api/user.
// `emailVerified: true` marks the address verified (docs/recovery.md): an admin's word for it; only true, since
// changing the address is what makes it unverified.
const emailVerified = z.literal(true, { message: "can only be true" });
// `resetMfa: true` removes the user's two-factor factor and recovery codes (docs/two-factor.md).
const resetMfa = z.literal(true, { message: "can only be true" });
export const adminUpdateBody = z.strictObject({ name, email, role, password, currentPassword, emailVerified, resetMfa }).partial();

export const deleteBody = z.strictObject({ uid: z.string({ message: "must be a string" }).min(1) });
