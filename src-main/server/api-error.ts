import type { ApiErrorCode } from '../api/api-schema';

/** An error the api returns as `{ ok: false, error: { code, message } }`. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function notFound(what: string, id: string, hint: string): ApiCallError {
  return new ApiCallError('not-found', `no ${what} "${id}": ${hint}`);
}
