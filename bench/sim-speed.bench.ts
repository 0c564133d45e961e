/**
 * Simulator speed on one core: simulated message deliveries per second, fault-free and under
 * the random nemesis. Goal: ≥ 500,000 deliveries/s.
 */
import { runSimulation } from '../src-node-agent/sim/run';
import { paxosStack } from '../src-node-agent/stacks/paxos';

const GOAL_PER_S = 500_000;

function measure(label: string, withFaults: boolean): void {
  let deliveries = 0;
  let wall_ms = 0;
  let runs = 0;
  for (let seed = 1; wall_ms < 3_000; seed++) {
    const started = performance.now();
    const r = runSimulation({
      stack: paxosStack,
      nodes: 5,
      clients: 8,
      seed,
      heal_ms: 3_000,
      schedule: withFaults ? undefined : [],
    });
    wall_ms += performance.now() - started;
    deliveries += r.deliveries;
    runs++;
  }
  const perSecond = deliveries / (wall_ms / 1000);
  console.log(
    `${label.padEnd(28)} ${runs} runs, ${deliveries.toLocaleString('en-US')} deliveries in ` +
      `${wall_ms.toFixed(0)} ms = ${Math.round(perSecond).toLocaleString('en-US')} deliveries/s ` +
      `(goal ≥ ${GOAL_PER_S.toLocaleString('en-US')}: ${perSecond >= GOAL_PER_S ? 'met' : 'NOT met'})`,
  );
}

export default async function run(): Promise<void> {
  console.log('5-node Multi-Paxos, 8 closed-loop clients, 3 s of virtual time per run, one core');
  measure('fault-free', false);
  measure('random nemesis', true);
}
