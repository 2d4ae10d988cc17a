/**
 * The CPU time a SHELL task used (issue 17: CPU-hours quotas count CPU, not wall clock, where it can
 * be measured). Node gives no rusage of a child, and the task's shell is gone (reaped) before Node
 * could read its /proc entry; so the task's shell runs under a small wrapper shell that waits for
 * it and then writes its `times` (POSIX: the user and system time of every process the wrapper
 * waited for, which includes all they waited for in turn) to a pipe only the wrapper holds.
 * Processes a task leaves running in the background are not counted (the ant kills them when the
 * shell ends); a task that must be killed with SIGKILL (it ignored SIGTERM for the grace period)
 * reports nothing and is charged its wall-clock time.
 */

/** The wrapper's descriptor for `times`; closed for the task, so nothing the task runs can write to it. */
export const CPU_TIMES_FD = 3;

/** What a group is stopped with (SIGTERM from the ant; the others from a terminal or a supervisor). */
const STOP_SIGNALS = 'HUP INT QUIT TERM';

/** Signals whose default action ends a process: a task shell that died of one, the wrapper dies of again. */
const FATAL_SIGNALS = 'HUP|INT|QUIT|ILL|TRAP|ABRT|BUS|FPE|KILL|USR1|SEGV|USR2|PIPE|ALRM|TERM|XCPU|XFSZ|SYS';

/**
 * Runs as `<shell> -c CPU_WRAPPER <shell> <script>`: the task's shell is `"$0" -e -c "$1"` (argv,
 * line numbers and `$0` as without the wrapper). The task's shell's end is passed on: its exit
 * status, or the signal that killed it (raised again on the wrapper, so the ant still says
 * "killed by SIGKILL").
 */
export const CPU_WRAPPER = [
  // Stopping a task signals its whole group: the wrapper outlives the task's shell (a caught signal
  // waits for the foreground command, and is default again in it), so a task that traps SIGTERM
  // still gets its grace before SIGKILL, and a stopped task's CPU time is still reported.
  `trap : ${STOP_SIGNALS}`,
  `"$0" -e -c "$1" ${CPU_TIMES_FD}>&-`,
  's=$?',
  `times >&${CPU_TIMES_FD}`,
  `exec ${CPU_TIMES_FD}>&-`,
  `if [ "$s" -gt 128 ]; then n=$(kill -l "$s" 2>/dev/null); case "$n" in ${FATAL_SIGNALS}) trap - "$n"; kill -s "$n" $$;; esac; fi`,
  'exit "$s"',
].join('\n');

const DURATION = /(\d+)m\s*(\d+(?:\.\d+)?)s/g;

/** More than `times` ever prints: the descriptor held more than the wrapper wrote. */
export const MAX_TIMES_TEXT = 4096;

/**
 * The children's user + system time, in ms, from what `times` printed (two lines, the shell's own
 * then its children's: `0m0.000000s 0m0.000000s` in dash, `0m0.002s 0m0.000s` in bash); undefined
 * when there is none (the wrapper was killed before it wrote). The last four durations are read:
 * the wrapper writes after the task's shell has ended, so text a task forged before that (through
 * /proc, as the same user) comes first and is not what is read.
 */
export function parseChildTimes(text: string): number | undefined {
  const seconds = [...text.matchAll(DURATION)].map((m) => Number(m[1]) * 60 + Number(m[2])).slice(-4);
  if (seconds.length !== 4 || seconds.some((s) => !Number.isFinite(s))) return undefined;
  return Math.round((seconds[2]! + seconds[3]!) * 1000);
}
