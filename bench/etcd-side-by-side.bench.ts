/**
 * FaultLab Multi-Paxos (3 replicas, fsync with group commit) next to a 3-member etcd on the
 * same loopback, same client counts, 50/50 put/get over 1000 keys. Runs only where an `etcd`
 * binary is installed (Debian: apt-get install etcd-server). etcd's load generator runs in
 * this process; FaultLab's runs in its workload agent, and FaultLab also records every
 * operation and protocol event, which etcd does not: read the numbers with that in mind.
 */
import { EtcdCluster, etcdAvailable } from './support/etcd-cluster';
import { benchPlan, formatPoint, measurePaxos, WARMUP_MS } from './support/paxos-point';

const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 6_000);

export default async function run(): Promise<void> {
  if (!etcdAvailable()) {
    console.log('skipped: no `etcd` binary on PATH (Debian: apt-get install etcd-server)');
    return;
  }
  for (const clients of [1, 16, 128]) {
    const etcd = new EtcdCluster();
    await etcd.start();
    let etcdPoint;
    try {
      etcdPoint = await etcd.load(clients, DURATION_MS, WARMUP_MS);
    } finally {
      await etcd.stop();
    }
    const paxos = await measurePaxos(benchPlan(clients, 'fsync', DURATION_MS));
    console.log(formatPoint(`etcd 3.4        ${String(clients).padStart(3)} clients`, etcdPoint));
    console.log(formatPoint(`faultlab paxos  ${String(clients).padStart(3)} clients`, paxos));
  }
}
