import type { ApiParams, ApiPush, LiveCheck } from '../../src-main/api/api-schema';

/**
 * Types the renderer needs that live outside src-main/api, reached THROUGH the contract so the
 * layering rule holds (renderer → types of src-main/api only).
 */
export type RecordsPush = Extract<ApiPush, { push: 'records' }>;
export type RunRecord = RecordsPush['records'][number];
export type Fault = ApiParams<'run.fault'>['fault'];
export type CheckResult = LiveCheck;
