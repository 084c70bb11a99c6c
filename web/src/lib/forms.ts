import { ApiError } from './api';

/** What a form shows after a failed call: one line, and per-field messages. */
export interface Problem {
  message: string;
  fields: Record<string, string>;
}

export function problem(e: unknown): Problem {
  if (e instanceof ApiError) {
    const fields = (e.details?.['fields'] as Record<string, string> | undefined) ?? {};
    const retry = e.details?.['retry_after_seconds'];
    const message =
      e.status === 429 && retry ? `Too many tries; wait ${retry} s and try again.` : e.message;
    return { message, fields };
  }
  if (e instanceof Error) return { message: e.message, fields: {} };
  return { message: 'Something went wrong.', fields: {} };
}

/** A client id for an idempotent send. */
export function clientId(): string {
  return crypto.randomUUID();
}
