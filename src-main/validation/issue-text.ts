import type { z } from 'zod';

/**
 * Zod issues turned into sentences a user can act on: the field as a path ("faults[1].at"),
 * what was expected and what was found. Shared by the lab loader and the recording reader, so
 * a bad lab file and a bad run.json read the same way.
 */

export type IssuePath = readonly PropertyKey[];

/** `faults[1].degrade.links[0]`; the root is "(top level)". */
export function formatPath(path: IssuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${String(segment)}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** The value found at `path` inside `root`, or undefined when the path leads nowhere. */
export function valueAtPath(root: unknown, path: IssuePath): unknown {
  let value = root;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

const MAX_SHOWN_CHARS = 60;

/** A short rendering of a found value for "got …": `true`, `"five"`, `a list`, `a map`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value).slice(0, MAX_SHOWN_CHARS)})`;
  if (typeof value === 'object')
    return `a map (${JSON.stringify(value).slice(0, MAX_SHOWN_CHARS)})`;
  if (typeof value === 'string') {
    const shown = JSON.stringify(value);
    return shown.length > MAX_SHOWN_CHARS ? `${shown.slice(0, MAX_SHOWN_CHARS)}…"` : shown;
  }
  return String(value);
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  record: 'a map',
  tuple: 'a list',
  null: 'null',
};

/**
 * One sentence for one issue. `value` is what sits at the issue's path in the input (for
 * "got …"). Custom issues are written by our own schemas as full sentences and pass through.
 */
export function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.expected === 'nonoptional') return 'missing';
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      return value === undefined
        ? `missing; expected ${expected}`
        : `expected ${expected}, got ${describeValue(value)}`;
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => (typeof v === 'string' ? v : String(v)));
      const expected = options.length === 1 ? String(options[0]) : `one of ${options.join(', ')}`;
      return value === undefined
        ? `missing; expected ${expected}`
        : `expected ${expected}, got ${describeValue(value)}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const relation =
        issue.code === 'too_small'
          ? inclusive
            ? 'at least'
            : 'more than'
          : inclusive
            ? 'at most'
            : 'less than';
      switch (issue.origin) {
        case 'array':
        case 'set':
          return `expected ${relation} ${String(bound)} item(s), got ${describeValue(value)}`;
        case 'string':
          return `expected ${relation} ${String(bound)} character(s), got ${describeValue(value)}`;
        default:
          return `expected a number ${relation} ${String(bound)}, got ${describeValue(value)}`;
      }
    }
    case 'unrecognized_keys':
      return issue.message.startsWith('unknown field')
        ? issue.message
        : `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_format':
      return `expected ${issue.format} text, got ${describeValue(value)}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}, got ${describeValue(value)}`;
    default:
      return issue.message;
  }
}

/** `path: sentence` for every issue, in order; for error messages about JSON files. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  return issues.map(
    (issue) => `${formatPath(issue.path)}: ${issueMessage(issue, valueAtPath(input, issue.path))}`,
  );
}
