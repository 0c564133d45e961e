import {
  apiMethods,
  apiRequestEnvelopeSchema,
  MAX_REQUEST_BYTES,
  type ApiMethod,
  type ApiParsedParams,
  type ApiResponse,
  type ApiResult,
} from '../api/api-schema';
import { describeIssues } from '../validation/issue-text';
import { ApiCallError } from './api-error';

/** One handler per api method; `C` is the per-connection context. */
export type ApiHandlers<C> = {
  readonly [M in ApiMethod]: (
    params: ApiParsedParams<M>,
    connection: C,
  ) => Promise<ApiResult<M>> | ApiResult<M>;
};

function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(apiMethods, name);
}

/** Params that must never be echoed back in an error message (or anywhere else). */
const SECRET_PARAMS: Partial<Record<ApiMethod, readonly string[]>> = {
  'ssh.passphrase': ['passphrase'],
};

/** `params` with its secret fields replaced by a note of their type and length. */
function redactSecrets(method: ApiMethod, params: unknown): unknown {
  const secret = SECRET_PARAMS[method];
  if (secret === undefined || typeof params !== 'object' || params === null) return params;
  const copy: Record<string, unknown> = { ...(params as Record<string, unknown>) };
  for (const key of secret) {
    const v = copy[key];
    if (v !== undefined && v !== null) {
      copy[key] = typeof v === 'string' ? `(hidden, ${v.length} chars)` : `(hidden ${typeof v})`;
    }
  }
  return copy;
}

function errorResponse(id: number, code: ApiCallError['code'], message: string): ApiResponse {
  return { id, ok: false, error: { code, message } };
}

/** A frame read and validated: its method (null when it named none) and its answer to come. */
export interface PreparedFrame {
  readonly method: ApiMethod | null;
  /** Runs the handler (once) and turns its outcome into the response. Never rejects. */
  readonly respond: () => Promise<ApiResponse>;
}

/**
 * Turns one text frame into one response. Never throws: a malformed frame, an unknown method,
 * bad params and a handler's failure all become error responses naming the problem, so one
 * bad message cannot take down the connection or the server.
 */
export async function routeFrame<C>(
  frame: string,
  handlers: ApiHandlers<C>,
  connection: C,
): Promise<ApiResponse> {
  return prepareFrame(frame, handlers, connection).respond();
}

/**
 * The synchronous half of routeFrame: parse and validate now (so the server knows the method
 * and can decide how to schedule it), call the handler when `respond` is called.
 */
export function prepareFrame<C>(
  frame: string,
  handlers: ApiHandlers<C>,
  connection: C,
): PreparedFrame {
  const answer = (response: ApiResponse): PreparedFrame => ({
    method: null,
    respond: () => Promise.resolve(response),
  });
  if (Buffer.byteLength(frame) > MAX_REQUEST_BYTES) {
    return answer(
      errorResponse(
        -1,
        'bad-request',
        `request of ${Buffer.byteLength(frame)} bytes exceeds the limit of ${MAX_REQUEST_BYTES} bytes`,
      ),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(frame);
  } catch (err) {
    return answer(
      errorResponse(
        -1,
        'bad-request',
        `malformed JSON in request: ${(err as Error).message}; send {"id":N,"method":"…","params":{…}}`,
      ),
    );
  }
  const envelope = apiRequestEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const rawId = (json as { id?: unknown } | null)?.id;
    const id = typeof rawId === 'number' && Number.isInteger(rawId) && rawId >= 0 ? rawId : -1;
    return answer(
      errorResponse(
        id,
        'bad-request',
        `malformed request envelope: ${describeIssues(envelope.error.issues, json).join('; ')}; expected {"id":N,"method":"…","params":{…}}`,
      ),
    );
  }
  const { id, method, params } = envelope.data;
  if (!isApiMethod(method)) {
    return answer(
      errorResponse(
        id,
        'unknown-method',
        `unknown method "${method}"; known: ${Object.keys(apiMethods).join(', ')}`,
      ),
    );
  }
  const parsed = apiMethods[method].params.safeParse(params ?? {});
  if (!parsed.success) {
    return answer(
      errorResponse(
        id,
        'bad-request',
        `bad params for ${method}: ${describeIssues(parsed.error.issues, redactSecrets(method, params)).join('; ')}`,
      ),
    );
  }
  const handler = handlers[method] as (p: unknown, c: C) => Promise<unknown> | unknown;
  return {
    method,
    respond: async () => {
      try {
        const result = await handler(parsed.data, connection);
        return { id, ok: true, result };
      } catch (err) {
        if (err instanceof ApiCallError) return errorResponse(id, err.code, err.message);
        return errorResponse(
          id,
          'failed',
          `${method} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    },
  };
}
