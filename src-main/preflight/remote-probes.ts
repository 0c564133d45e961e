import { shellQuote } from '../ssh/ssh-exec';

/**
 * The commands a preflight runs on a host over SSH, with their parsers (pure, POSIX sh, every
 * argument quoted). Node scripts run with the host's own node, found by the Node probe.
 */

/** Nanoseconds since the epoch; BusyBox date prints "%N" literally, which the parser rejects. */
export const CLOCK_COMMAND = 'date +%s%N';

export function parseClock(stdout: string): bigint | null {
  const text = stdout.trim();
  return /^\d{19}$/.test(text) ? BigInt(text) : null;
}

/**
 * Can the agents listen on `address` at these ports (0: any free one)? Prints one
 * "<port> ok" or "<port> <error code>" line per port, then exits.
 */
export function portsCommand(nodePath: string, address: string, ports: readonly number[]): string {
  const script =
    'const net=require("net");const a=process.argv[1];const ps=process.argv.slice(2).map(Number);' +
    'const out=[];let left=ps.length;const done=()=>{if(--left===0){console.log(out.join("\\n"))}};' +
    'for(const p of ps){const s=net.createServer();' +
    's.once("error",e=>{out.push(p+" "+(e.code||e.message));done()});' +
    's.listen(p,a,()=>{out.push(p+" ok");s.close(done)})}';
  return `${shellQuote(nodePath)} -e ${shellQuote(script)} ${shellQuote(address)} ${ports.join(' ')}`;
}

export function parsePorts(stdout: string): Map<number, string> {
  const result = new Map<number, string>();
  for (const line of stdout.trim().split('\n')) {
    const m = /^(\d+) (\S+)$/.exec(line.trim());
    if (m !== null) result.set(Number(m[1]), m[2] as string);
  }
  return result;
}

/** Kernel-fault tools on a host: uid, nft, tc, and whether the netem module exists. */
export const KERNEL_PROBE_COMMAND =
  'id -u; command -v nft || echo -; command -v tc || echo -; ' +
  '{ grep -qw sch_netem /proc/modules || ls /lib/modules/"$(uname -r)"/kernel/net/sched/sch_netem.ko* ; } ' +
  '>/dev/null 2>&1 && echo netem || echo no-netem';

export interface KernelProbe {
  readonly root: boolean;
  readonly nft: string | null;
  readonly tc: string | null;
  readonly netem: boolean;
}

export function parseKernelProbe(stdout: string): KernelProbe | null {
  const [uid, nft, tc, netem] = stdout
    .trim()
    .split('\n')
    .map((l) => l.trim());
  if (uid === undefined || !/^\d+$/.test(uid) || netem === undefined) return null;
  return {
    root: uid === '0',
    nft: nft === undefined || nft === '-' ? null : nft,
    tc: tc === undefined || tc === '-' ? null : tc,
    netem: netem === 'netem',
  };
}

/**
 * A probe server on `address`, port 0: prints its port, then serves each connection by its
 * first byte. "b<ms>," makes it a sink: it counts the bytes that arrive in the <ms> after the
 * first one and then answers with that count at once (so a slow link's queued bytes need not
 * drain first); anything else is echoed back, byte for byte (RTT). Exits when its stdin closes
 * (the SSH channel ends) or after `lifetime_s`.
 */
export function echoServerCommand(nodePath: string, address: string, lifetime_s: number): string {
  const script =
    'const net=require("net");const s=net.createServer({noDelay:true},c=>{c.on("error",()=>{});' +
    'c.once("data",d=>{if(d[0]===98){const k=d.indexOf(44);const w=+d.subarray(1,k).toString();' +
    'let n=d.length-k-1;const t0=process.hrtime.bigint();c.on("data",x=>{n+=x.length});' +
    'setTimeout(()=>{const ms=Number(process.hrtime.bigint()-t0)/1e6;' +
    'c.end(JSON.stringify({bytes:n,ms})+"\\n");c.resume()},w)}' +
    'else{c.write(d);c.pipe(c)}})});' +
    's.on("error",e=>{console.error(e.message);process.exit(1)});' +
    's.listen(0,process.argv[1],()=>console.log(s.address().port));' +
    'process.stdin.on("end",()=>process.exit(0));process.stdin.resume();' +
    'setTimeout(()=>process.exit(0),+process.argv[2]*1000).unref();';
  return `${shellQuote(nodePath)} -e ${shellQuote(script)} ${shellQuote(address)} ${lifetime_s}`;
}

/**
 * Send to a probe server's sink, as fast as TCP takes it (at most `cap_bytes`), until the sink
 * answers what it received in `duration_ms`; print that answer, {"bytes":N,"ms":M}, or
 * "error <reason>" (exit 1). It never ends its side first: the sink would close before answering.
 */
export function bandwidthClientCommand(
  nodePath: string,
  address: string,
  port: number,
  duration_ms: number,
  cap_bytes: number,
  timeout_ms: number,
): string {
  const script =
    'const net=require("net");const [a,p,ms,cap,t]=process.argv.slice(1);' +
    'const fail=m=>{console.log("error "+m);process.exit(1)};' +
    'setTimeout(()=>fail("no answer within "+t+" ms"),+t).unref();' +
    'const buf=Buffer.alloc(65536,120);let sent=0;let out="";let done=false;' +
    'const c=net.connect({host:a,port:+p},()=>{c.write("b"+ms+",");' +
    'const pump=()=>{while(!done){if(sent>=+cap)return;' +
    'sent+=buf.length;if(!c.write(buf)){c.once("drain",pump);return}}};pump()});' +
    'c.on("data",d=>{out+=d;if(out.includes("\\n")){done=true;console.log(out.trim());process.exit(0)}});' +
    'c.on("end",()=>fail("the probe server closed without an answer"));' +
    'c.on("error",e=>fail(e.code||e.message))';
  return `${shellQuote(nodePath)} -e ${shellQuote(script)} ${shellQuote(address)} ${port} ${duration_ms} ${cap_bytes} ${timeout_ms}`;
}

/** Megabits per second from the sink's answer, or why there is none. */
export function parseBandwidth(
  stdout: string,
): { mbps: number; bytes: number; ms: number } | string {
  const text = stdout.trim();
  if (text.startsWith('error ')) return text.slice(6);
  try {
    const v = JSON.parse(text) as { bytes?: unknown; ms?: unknown };
    if (typeof v.bytes === 'number' && typeof v.ms === 'number' && v.bytes > 0 && v.ms > 0) {
      return { mbps: (v.bytes * 8) / (v.ms * 1000), bytes: v.bytes, ms: v.ms };
    }
  } catch {
    // Reported below.
  }
  return `unexpected output "${text.slice(0, 120)}"`;
}

/**
 * Connect to an echo server and time `count` one-byte round trips, one at a time. Prints
 * the samples in ms as JSON, or "error <reason>" on failure (exit 1).
 */
export function rttClientCommand(
  nodePath: string,
  address: string,
  port: number,
  count: number,
  timeout_ms: number,
): string {
  const script =
    'const net=require("net");const [a,p,n,t]=process.argv.slice(1);const out=[];let t0=0n;' +
    'const fail=m=>{console.log("error "+m);process.exit(1)};' +
    'setTimeout(()=>fail("no answer within "+t+" ms"),+t).unref();' +
    'const c=net.connect({host:a,port:+p,noDelay:true},()=>{t0=process.hrtime.bigint();c.write("x")});' +
    'c.on("error",e=>fail(e.code||e.message));' +
    'c.on("data",d=>{for(let i=0;i<d.length;i++){const now=process.hrtime.bigint();' +
    'out.push(Number(now-t0)/1e6);if(out.length>=+n){console.log(JSON.stringify(out));c.destroy();process.exit(0)}' +
    't0=process.hrtime.bigint();c.write("x")}})';
  return `${shellQuote(nodePath)} -e ${shellQuote(script)} ${shellQuote(address)} ${port} ${count} ${timeout_ms}`;
}

export function parseRttSamples(stdout: string): number[] | string {
  const text = stdout.trim();
  if (text.startsWith('error ')) return text.slice(6);
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && x >= 0)) {
      return v as number[];
    }
  } catch {
    // Reported below.
  }
  return `unexpected output "${text.slice(0, 120)}"`;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
