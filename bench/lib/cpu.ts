/**
 * CPU time of the client (this process), the server process and its children (nats-server), read
 * from /proc, so each cell can say who was busy. On a 2-core machine where client, gateway and
 * nats-server share the cores, this is what tells "the server is slow" from "the box is full".
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CpuShare } from '../types.ts';

/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const ticksPerSecond = 100;

function procTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      for (const c of text.split(/\s+/)) if (c !== '') out.push(Number(c));
    }
  } catch {
    // The process is gone or /proc is not Linux's: no children to count.
  }
  return out;
}

function descendants(pid: number): number[] {
  const all: number[] = [];
  for (const c of childPids(pid)) all.push(c, ...descendants(c));
  return all;
}

/** Busy ticks of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusyTicks(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  } catch {
    return 0;
  }
}

export interface CpuProbe {
  stop(): CpuShare;
}

/** Starts counting; `serverPid` undefined counts only the client. */
export function startCpuProbe(serverPid: number | undefined): CpuProbe {
  const kids = serverPid === undefined ? [] : descendants(serverPid);
  const t0 = performance.now();
  const client0 = process.cpuUsage();
  const server0 = serverPid === undefined ? 0 : procTicks(serverPid);
  const kids0 = kids.map(procTicks);
  const machine0 = machineBusyTicks();
  return {
    stop(): CpuShare {
      const elapsedS = (performance.now() - t0) / 1000;
      const client = process.cpuUsage(client0);
      const server = serverPid === undefined ? 0 : procTicks(serverPid) - server0;
      const children = kids.reduce((sum, pid, i) => sum + procTicks(pid) - (kids0[i] ?? 0), 0);
      const machine = machineBusyTicks() - machine0;
      const pct = (seconds: number): number => (elapsedS > 0 ? (100 * seconds) / elapsedS : 0);
      const clientPct = pct((client.user + client.system) / 1e6);
      const serverPct = pct(server / ticksPerSecond);
      const childrenPct = pct(children / ticksPerSecond);
      // Tick counts are coarse (10 ms): small negative remainders are rounding, not load.
      const otherPct = Math.max(0, pct(machine / ticksPerSecond) - clientPct - serverPct - childrenPct);
      return { clientPct, serverPct, childrenPct, otherPct };
    },
  };
}
