// Request schemas of the recovery routes (docs/recovery.md › Routes). Strict: unknown fields are an error.
import { z } from "zod";
import { password, uid } from "../users/users.schemas";

// Tokens are 43 base64url characters; anything else is simply not a token (RESET_/VERIFY_TOKEN_INVALID, not 400
// VALIDATION_FAILED), but absurd lengths are refused before they reach anything.
const token = z.string({ message: "must be a string" }).min(1, { message: "is required" }).max(200, { message: "is too long" });

/** `{email}` or `{uid}`, exactly one. */
export const forgotBody = z
  .strictObject({ email: z.email({ message: "must be a valid email address" }).max(254).optional(), uid: uid.optional() })
  .superRefine((body, ctx) => {
    if ((body.email === undefined) === (body.uid === undefined)) ctx.addIssue({ code: "custom", message: "give either your email address or your GitHub ID" });
  })
  .transform((body): { email: string } | { uid: string } => (body.email !== undefined ? { email: body.email } : { uid: body.uid as string }));

export const resetBody = z.strictObject({
  token,
  password,
  // A 6-digit TOTP code or a recovery code (their shapes tell them apart).
  code: z.string({ message: "must be a string" }).max(64, { message: "is too long" }).optional(),
});

export const verifyBody = z.strictObject({ token });

export const emptyBody = z.strictObject({});
