/**
 * The one door through which VALUES of the contract (src-main/api) enter the renderer: the zod
 * schemas that check every frame, and RunView, the pure reducer the page folds pushed records
 * with. Both are browser-safe by design (api-schema.ts and run-view.ts say so: zod and pure
 * code only, no Node). Every other renderer file imports only types from src-main/api, as the
 * layering rule asks; keeping the exception to this file makes it reviewable in one place.
 */
/* eslint-disable @typescript-eslint/no-restricted-imports -- the sanctioned value gateway, see above */
export {
  API_VERSION,
  apiMethods,
  apiPushSchema,
  apiResponseSchema,
  streamRefSchema,
} from '../../src-main/api/api-schema';
export { RunView, MAX_SERIES_POINTS } from '../../src-main/api/run-view';
export { runViewSnapshotSchema } from '../../src-main/api/run-view-schema';
/* eslint-enable @typescript-eslint/no-restricted-imports */
