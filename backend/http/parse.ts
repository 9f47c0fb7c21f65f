// Request parsing at the edge: a typed value, or 400 VALIDATION_FAILED listing each field's problem.
import type { z } from "zod";
import { AppError } from "../errors";

/** Validates a body against a (strict) schema: unknown fields are an error too. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: issue.code === "unrecognized_keys" ? issue.keys.join(", ") : issue.path.join(".") || "body",
    message: issue.code === "unrecognized_keys" ? "unknown field" : issue.message,
  }));
  const summary = fields.map((f) => `${f.field} ${f.message}`).join("; ");
  throw new AppError("VALIDATION_FAILED", `Some fields are invalid: ${summary}`, fields);
}

/** One field's 400, in the same shape as parse() gives. */
export function fieldError(field: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", `Some fields are invalid: ${field} ${message}`, [{ field, message }]);
}

export const isBlank = (v: unknown) => v === undefined || v === null || v === "";
