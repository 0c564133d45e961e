import { InvalidArgumentError } from 'commander';

export function parseParams(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`--params must be JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('--params must be a JSON object, e.g. {"heartbeat_ms":10}');
  }
  return parsed as Record<string, unknown>;
}

const MUTATIONS: Record<string, Record<string, unknown>> = {
  'half-quorum': { quorum: 'half' },
  'skip-replay': { skipReplay: true },
};

/** Commander "variadic" collector for --mutation names. */
export function parseMutations(
  value: string,
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const m = MUTATIONS[value];
  if (m === undefined) {
    throw new InvalidArgumentError(
      `unknown mutation "${value}"; known: ${Object.keys(MUTATIONS).join(', ')}`,
    );
  }
  return { ...previous, ...m };
}
