import { z } from 'zod';

/** Beyond this the trace would crowd every other event out of the agent's event stream. */
export const MAX_TRACED_MESSAGES_PER_SECOND = 100_000;

const endpoint = z
  .object({
    id: z.string().min(1).max(64),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
  })
  .strict();

/**
 * `agent.json`, written into the agent's work directory (mode 0600) by the testbed before it
 * starts the agent: `node faultlab-agent.cjs --config <workDir>/agent.json`.
 */
export const agentConfigSchema = z
  .object({
    version: z.literal(1),
    runId: z.string().min(1).max(128),
    /** "n1"… for replicas; "w1"… for workload (client) agents. */
    node: z.string().min(1).max(64),
    role: z.enum(['replica', 'workload']),
    stack: z.string().min(1),
    /** Stack parameters, parsed by the stack's own schema. */
    params: z.unknown(),
    /** Every replica of the cluster, in order (the order defines leaders of views). */
    servers: z.array(endpoint).min(1).max(64),
    /** 32-byte per-run secret, hex: proves every peer connection. */
    secretHex: z.string().regex(/^[0-9a-f]{64}$/),
    workDir: z.string().min(1),
    /** Unix socket the orchestrator connects to (created with mode 0600). */
    controlSocket: z.string().min(1),
    /** Dead-man switch: with no orchestrator connected for this long, heal every fault. */
    lease_ms: z.number().int().min(100).max(3_600_000),
    /** fsync: group-committed fsync before dependent messages leave; write: no fsync; memory: no disk. */
    durability: z.enum(['fsync', 'write', 'memory']),
    /** Exit when no orchestrator has been connected for this long; null = wait forever. */
    orphanExit_ms: z.number().int().min(1_000).max(86_400_000).nullable().default(null),
    telemetryInterval_ms: z.number().int().min(50).max(60_000).default(500),
    /** Bound on events kept for the orchestrator before the oldest spill to disk. */
    eventBufferLimit: z.number().int().min(100).max(10_000_000).default(50_000),
    /**
     * Message tracing for space-time diagrams: a `message` event per protocol message sent,
     * received or dropped by the link filter, at most `maxPerSecond` a second (the rest are
     * counted in `message-trace-dropped`). Off (null) by default: it costs throughput.
     */
    traceMessages: z
      .object({ maxPerSecond: z.number().int().min(1).max(MAX_TRACED_MESSAGES_PER_SECOND) })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();
export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;
