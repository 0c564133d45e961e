import { z } from 'zod';

/**
 * What a preflight found, JSON-able (the dashboard shows it, `faultlab preflight` prints it):
 * one row per check, each on a host, on a pair of hosts, or on this machine.
 */

export const PREFLIGHT_CHECKS = [
  'reachable',
  'node',
  'ports',
  'clock',
  'rtt',
  'bandwidth',
  'kernel-faults',
] as const;
export type PreflightCheckName = (typeof PREFLIGHT_CHECKS)[number];

export const preflightCheckSchema = z
  .object({
    check: z.enum(PREFLIGHT_CHECKS),
    /** The host it ran on (inventory name); null: this machine. */
    host: z.string().nullable(),
    /** For rtt: the other end. */
    peer: z.string().nullable(),
    /** A failed required check refuses the run; others only warn. */
    required: z.boolean(),
    status: z.enum(['pass', 'warn', 'fail', 'skipped']),
    /** One line a person can act on: what was found, and on failure what to do. */
    detail: z.string(),
    /** The measurement in ms when there is one (clock offset, rtt median). */
    value_ms: z.number().nullable(),
    /** Its uncertainty in ms (clock: ± RTT/2 of the exec). */
    uncertainty_ms: z.number().nullable(),
    /** For bandwidth: megabits per second from `host` to `peer`. */
    value_mbps: z.number().nullable().default(null),
  })
  .strict();
export type PreflightCheck = z.infer<typeof preflightCheckSchema>;

export const preflightResultSchema = z
  .object({
    testbed: z.string(),
    startedAt: z.string(),
    duration_ms: z.number(),
    /** False when a required check failed. */
    ok: z.boolean(),
    hosts: z.array(z.object({ name: z.string(), address: z.string() }).strict()),
    checks: z.array(preflightCheckSchema),
    /**
     * Hosts that presented a key nobody has accepted yet (each refused): the dashboard shows
     * their fingerprints in a dialog, and a preflight or run with them accepted remembers them.
     */
    unknownHostKeys: z
      .array(z.object({ host: z.string(), fingerprint: z.string() }).strict())
      .default([]),
  })
  .strict();
export type PreflightResult = z.infer<typeof preflightResultSchema>;

/** Every failed required check, one line each ("n2: node: ..."), for a refusal. */
export function failedRequired(result: PreflightResult): string[] {
  return result.checks
    .filter((c) => c.required && c.status === 'fail')
    .map(
      (c) =>
        `${c.host ?? 'this machine'}${c.peer === null ? '' : ` → ${c.peer}`}: ${c.check}: ${c.detail}`,
    );
}

export class PreflightFailed extends Error {
  override readonly name = 'PreflightFailed';
  constructor(readonly result: PreflightResult) {
    const failed = failedRequired(result);
    super(
      `preflight: ${failed.length} required check(s) failed, the run is refused:\n  ${failed.join('\n  ')}`,
    );
  }
}

/** "940 Mbit/s", "9.41 Gbit/s". */
export function formatMbps(mbps: number): string {
  return mbps >= 1000 ? `${(mbps / 1000).toFixed(2)} Gbit/s` : `${mbps.toFixed(0)} Mbit/s`;
}
