import type { ApiPush } from '../api/api-schema';

/** Where a stream's pushes go: one WebSocket connection (or a test double that records). */
export interface PushTarget {
  readonly id: string;
  push(message: ApiPush): void;
  /**
   * The client is behind: its socket holds more unsent bytes than the bound. Streams then
   * drop record batches for it and later send a fresh snapshot instead (never buffer without
   * bound).
   */
  congested(): boolean;
}

/** Unsent bytes on one socket above which record streams coalesce. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
