import { readFileSync } from 'node:fs';
import type { AnyStack } from '../core/protocol';
import { stacks } from '../stacks';
import { pbftStackWith } from '../stacks/pbft';
import { nativeEd25519, nativeHmac } from '../runtime/native-pbft-crypto';
import { agentConfigSchema, type AgentConfig } from './agent-config';

/** agent.json is wrong: the message names the file and the field. The agent exits 2. */
export class AgentConfigError extends Error {}

export interface LoadedAgentConfig {
  readonly config: AgentConfig;
  readonly stack: AnyStack;
  /** `config.params` parsed by the stack's own schema (defaults filled in). */
  readonly params: unknown;
}

/** Read, parse and validate agent.json, including the stack's parameters and the cluster. */
export function loadAgentConfig(path: string): LoadedAgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read the agent config ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateAgentConfig(json, path);
}

export function validateAgentConfig(json: unknown, path: string): LoadedAgentConfig {
  const parsed = agentConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `field "${i.path.join('.') || '(root)'}": ${i.message}`)
      .join('; ');
    throw new AgentConfigError(`${path}: ${issues}`);
  }
  const config = parsed.data;
  const stack = stacks.get(config.stack);
  if (stack === undefined) {
    throw new AgentConfigError(
      `${path}: field "stack": unknown stack "${config.stack}"; this agent knows ` +
        Array.from(stacks.keys()).join(', '),
    );
  }
  const params = stack.configSchema.safeParse(config.params ?? {});
  if (!params.success) {
    const issues = params.error.issues
      .slice(0, 5)
      .map((i) => `field "params.${i.path.join('.')}": ${i.message}`)
      .join('; ');
    throw new AgentConfigError(`${path}: ${issues}`);
  }
  const ids = config.servers.map((s) => s.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) {
    throw new AgentConfigError(`${path}: field "servers": server "${duplicate}" is listed twice`);
  }
  const listed = ids.includes(config.node);
  if (config.role === 'replica' && !listed) {
    throw new AgentConfigError(
      `${path}: field "node": replica "${config.node}" is not in "servers" (${ids.join(', ')})`,
    );
  }
  if (config.role === 'workload' && listed) {
    throw new AgentConfigError(
      `${path}: field "node": workload agent "${config.node}" must not share an id with a server`,
    );
  }
  const sizeError = stack.validateClusterSize(config.servers.length, params.data);
  if (sizeError !== null) {
    throw new AgentConfigError(`${path}: field "servers": ${stack.name}: ${sizeError}`);
  }
  return { config, stack: withNativeCrypto(stack), params: params.data };
}

/**
 * The agent runs stacks with native cryptography where they take it: the same functions as
 * their pure TypeScript defaults (which the simulator keeps for determinism), far faster.
 */
function withNativeCrypto(stack: AnyStack): AnyStack {
  return stack.name === 'pbft' ? pbftStackWith(nativeEd25519, nativeHmac) : stack;
}
