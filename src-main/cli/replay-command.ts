import { describeFault, type TimedFault } from '../../src-node-agent/core/faults';
import { LabError, validateResolvedLab } from '../labs/load-lab';
import { planFromLab } from '../orchestrator/plan-from-lab';
import { readRecording, type Recording } from '../record/recording-reader';
import { RUN_FILES, type RunRecord } from '../record/schema';
import { executePlan, RUN_EXIT, type RunCommandArgs } from './run-command';
import { formatTable } from './table';

export const REPLAY_TOLERANCE_MS = 50;

type FaultRecord = Extract<RunRecord, { type: 'fault' }>;

/** The faults a run actually applied (not the heal at stop), in order. */
export function appliedFaults(rec: Pick<Recording, 'records'>): FaultRecord[] {
  return rec.records.filter(
    (r): r is FaultRecord =>
      r.type === 'fault' && r.phase === 'applied' && r.source !== 'stop' && r.source !== 'dead-man',
  );
}

export interface FaultComparison {
  readonly rows: {
    fault: string;
    original_ms: number;
    replay_ms: number | null;
    delta_ms: number | null;
  }[];
  readonly sameFaults: boolean;
  readonly worstDelta_ms: number;
}

/** Pair the faults of two runs in order and measure how far apart in time each pair is. */
export function compareFaults(
  original: readonly FaultRecord[],
  replay: readonly FaultRecord[],
): FaultComparison {
  let same = original.length === replay.length;
  let worst = 0;
  const rows = original.map((o, i) => {
    const r = replay[i];
    const matches = r !== undefined && JSON.stringify(r.fault) === JSON.stringify(o.fault);
    if (!matches) same = false;
    const delta = r === undefined ? null : r.t_ms - o.t_ms;
    if (delta !== null) worst = Math.max(worst, Math.abs(delta));
    return {
      fault: describeFault(o.fault),
      original_ms: o.t_ms,
      replay_ms: r?.t_ms ?? null,
      delta_ms: delta,
    };
  });
  return { rows, sameFaults: same, worstDelta_ms: worst };
}

/**
 * `faultlab replay <run-dir>`: re-execute a recorded run on a fresh testbed — same lab, same
 * seed, and the faults exactly as they were applied (resolved targets, recorded offsets) — then
 * check it and compare the fault timing with the original (±50 ms).
 */
export async function replayCommand(
  args: { readonly runDir: string } & Pick<
    RunCommandArgs,
    'outDir' | 'print' | 'interactive' | 'writeInPlace'
  >,
): Promise<number> {
  const { print } = args;
  let original: Recording;
  try {
    original = await readRecording(args.runDir);
  } catch (err) {
    print(
      `faultlab replay: cannot read the recording in ${args.runDir}: ${(err as Error).message}`,
    );
    return RUN_EXIT.couldNotRun;
  }
  let lab;
  try {
    lab = validateResolvedLab(original.manifest.lab, `${args.runDir}/${RUN_FILES.manifest}`);
  } catch (err) {
    print(err instanceof LabError ? err.message : String(err));
    return RUN_EXIT.couldNotRun;
  }
  const faults = appliedFaults(original);
  const replayFaults: TimedFault[] = faults.map((f) => ({
    at_ms: Math.max(0, f.t_ms),
    fault: f.fault,
  }));
  print(
    `replaying ${original.manifest.name} (run ${original.manifest.runId}) with ${faults.length} recorded faults`,
  );
  const plan = planFromLab(lab, { labPath: original.manifest.labPath, replayFaults });
  return executePlan(plan, args, async (outcome) => {
    const replay = await readRecording(outcome.runDir);
    const cmp = compareFaults(faults, appliedFaults(replay));
    print('');
    print('fault timing, original vs replay:');
    for (const line of formatTable(
      ['fault', 'original', 'replay', 'Δ'],
      cmp.rows.map((r) => [
        r.fault,
        `${r.original_ms.toFixed(0)} ms`,
        r.replay_ms === null ? 'missing' : `${r.replay_ms.toFixed(0)} ms`,
        r.delta_ms === null ? '—' : `${r.delta_ms >= 0 ? '+' : ''}${r.delta_ms.toFixed(1)} ms`,
      ]),
    )) {
      print(`  ${line}`);
    }
    const ok = cmp.sameFaults && cmp.worstDelta_ms <= REPLAY_TOLERANCE_MS;
    print(
      ok
        ? `replay matches: the same ${faults.length} faults, each within ${REPLAY_TOLERANCE_MS} ms (worst ${cmp.worstDelta_ms.toFixed(1)} ms)`
        : `replay DIFFERS: ${cmp.sameFaults ? '' : 'the faults differ; '}worst offset ${cmp.worstDelta_ms.toFixed(1)} ms (tolerance ${REPLAY_TOLERANCE_MS} ms)`,
    );
    return ok ? 0 : 1;
  });
}
