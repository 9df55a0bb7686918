/**
 * A progress bar on stderr for long bulk jobs: done/total, rate and ETA,
 * redrawn in place at most every {@link REDRAW_MS} on a terminal, one line
 * every {@link LOG_EVERY_MS} otherwise (a log file, CI).
 */

const REDRAW_MS = 200;
const LOG_EVERY_MS = 5_000;
const WIDTH = 30;

/** 1234567 → "1.23M", 45100 → "45.1k". */
export function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Seconds as "1m05s" / "42s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export class ProgressBar {
  private done = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = "rows",
  ) {}

  /** Adds `n` finished items; `note` names what is being worked on. */
  add(n: number, note = ""): void {
    this.done += n;
    const now = performance.now();
    if (now - this.lastDraw >= (this.tty ? REDRAW_MS : LOG_EVERY_MS)) {
      this.lastDraw = now;
      this.draw(note);
    }
  }

  /** Draws the final state and ends the line; returns the elapsed seconds. */
  finish(note = "done"): number {
    this.draw(note);
    if (this.tty) process.stderr.write("\n");
    return (performance.now() - this.started) / 1_000;
  }

  private draw(note: string): void {
    const elapsed = (performance.now() - this.started) / 1_000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const filled = Math.round((WIDTH * this.done) / Math.max(1, this.total));
    const line =
      `${this.label} [${"#".repeat(filled)}${".".repeat(WIDTH - filled)}] ${compact(this.done)}/${compact(this.total)} ${this.unit}` +
      `  ${compact(rate)}/s  elapsed ${duration(elapsed)}  ETA ${duration(rate > 0 ? (this.total - this.done) / rate : Infinity)}  ${note}`;
    process.stderr.write(this.tty ? `\r${line.padEnd(process.stderr.columns ?? 0)}` : `${line}\n`);
  }
}
