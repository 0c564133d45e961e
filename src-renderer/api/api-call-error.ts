import type { ApiErrorCode } from '../../src-main/api/api-schema';

/** Failures the client itself detects, on top of the server's error codes. */
export type ClientErrorCode = 'timeout' | 'disconnected' | 'bad-response' | 'queue-full';

/** A failed api call: which method, why, and (in `message`) what the operator can do. */
export class ApiCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: ApiErrorCode | ClientErrorCode,
    detail: string,
  ) {
    super(`${method}: ${detail}`);
    this.name = 'ApiCallError';
  }
}

/** Text for an error of any kind, for the page's error banners. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
