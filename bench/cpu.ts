// CPU time of a process from /proc, for the benchmarks: what a server spent per event, and whether it has gone idle.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** user + system CPU time of a process so far, in µs, from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
}

/**
 * Resolves once the process spends under 5% of a core over a whole second (its start-up work done: SQLite's
 * PRAGMA quick_check of a 3 GB file goes on in the background for a minute after the server is ready), or throws
 * after `timeoutMs`.
 */
export async function idle(pid: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let before = cpuMicros(pid);
  while (Date.now() < deadline) {
    await sleep(1_000);
    const now = cpuMicros(pid);
    if (now - before < 50_000) return;
    before = now;
  }
  throw new Error(`process ${pid} still busy after ${timeoutMs} ms`);
}
