import { existsSync, readFileSync } from "node:fs";

/** Kernel clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far, from /proc; with
 * `children`, those of its finished children instead (e.g. ghz, run to
 * completion). Undefined where there is no /proc.
 */
export function cpuSeconds(pid: number | string | undefined, children = false): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return undefined;
  // Fields after the command name (which may hold spaces) start at state = field 3:
  // utime and stime are fields 14 and 15, cutime and cstime 16 and 17.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const first = children ? 13 : 11;
  return (Number(fields[first]) + Number(fields[first + 1])) / CLOCK_TICKS_PER_SECOND;
}
