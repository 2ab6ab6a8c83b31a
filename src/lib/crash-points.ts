/**
 * Named crash points for fault tests: when STRATA_CRASH_POINT names a point, the process kills
 * itself with SIGKILL the moment it reaches it (no cleanup, no flush: as a power cut would, minus
 * the page cache). Off unless the variable is set; a point costs one string compare.
 */
export function crashPoint(name: string): void {
  if (process.env['STRATA_CRASH_POINT'] !== name) return;
  process.stderr.write(`crash point ${name}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}
