/**
 * An HTML report of one ghz run, rendered from the same run's JSON report.
 * ghz v0.121.0 writes one format per run (`--format json` or `--format html`),
 * and the benches need the JSON for their numbers, so the page is made here
 * instead of by a second run: ghz's summary, histogram, latency distribution,
 * status codes and errors, in one self-contained file (no scripts, no CDN).
 */

/** The part of ghz's JSON report the page shows. */
export interface GhzJsonReport {
  date?: string;
  endReason?: string;
  options?: { call?: string; host?: string; concurrency?: number; duration?: number; total?: number; connections?: number };
  count?: number;
  /** Nanoseconds, like every duration in the report except the histogram marks (seconds). */
  total?: number;
  average?: number;
  fastest?: number;
  slowest?: number;
  rps: number;
  errorDistribution?: Record<string, number> | null;
  statusCodeDistribution?: Record<string, number> | null;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  histogram?: { mark: number; count: number; frequency: number }[] | null;
}

const BAR_WIDTH = 480;
const BAR_HEIGHT = 18;
const LABEL_WIDTH = 90;

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const ms = (nanos: number | undefined) => (nanos === undefined ? "–" : `${(nanos / 1e6).toFixed(2)} ms`);
const table = (head: string[], rows: (string | number)[][]) =>
  `<table><tr>${head.map((h) => `<th>${escape(h)}</th>`).join("")}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escape(String(c))}</td>`).join("")}</tr>`)
    .join("")}</table>`;

/** The latency histogram as horizontal bars, one per bucket (its upper mark in ms). */
function histogramSvg(buckets: NonNullable<GhzJsonReport["histogram"]>): string {
  const most = Math.max(1, ...buckets.map((b) => b.count));
  const bars = buckets.map((b, i) => {
    const y = i * BAR_HEIGHT;
    const w = Math.max(1, Math.round((b.count / most) * BAR_WIDTH));
    return (
      `<text x="${LABEL_WIDTH - 6}" y="${y + 13}" text-anchor="end">${(b.mark * 1e3).toFixed(2)}</text>` +
      `<rect x="${LABEL_WIDTH}" y="${y + 2}" width="${w}" height="${BAR_HEIGHT - 4}" fill="#3273dc"/>` +
      `<text x="${LABEL_WIDTH + w + 6}" y="${y + 13}">${b.count} (${(b.frequency * 100).toFixed(1)} %)</text>`
    );
  });
  const width = LABEL_WIDTH + BAR_WIDTH + 140;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${buckets.length * BAR_HEIGHT}" font-size="12" font-family="sans-serif">${bars.join("")}</svg>`;
}

/** The whole page for run `name` (e.g. "IsFollowing (cached)"). */
export function renderGhzHtml(name: string, r: GhzJsonReport): string {
  const o = r.options ?? {};
  const sections = [
    `<h1>${escape(name)}</h1>`,
    `<p>${escape(o.call ?? "?")} on ${escape(o.host ?? "?")} · ${escape(r.date ?? "")} · concurrency ${o.concurrency ?? "?"}` +
      `${o.duration ? ` · ${o.duration / 1e9} s` : ""} · end: ${escape(r.endReason ?? "?")}</p>`,
    "<h2>Summary</h2>",
    table(
      ["count", "total", "slowest", "fastest", "average", "requests/s"],
      [[r.count ?? "–", ms(r.total), ms(r.slowest), ms(r.fastest), ms(r.average), r.rps.toFixed(2)]],
    ),
    "<h2>Latency histogram (ms)</h2>",
    histogramSvg(r.histogram ?? []),
    "<h2>Latency distribution</h2>",
    table(
      ["percentile", "latency"],
      (r.latencyDistribution ?? []).map((d) => [`p${d.percentage}`, ms(d.latency)]),
    ),
    "<h2>Status codes</h2>",
    table(["status", "count"], Object.entries(r.statusCodeDistribution ?? {})),
    ...(Object.keys(r.errorDistribution ?? {}).length > 0 ? ["<h2>Errors</h2>", table(["error", "count"], Object.entries(r.errorDistribution ?? {}))] : []),
  ];
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>ghz: ${escape(name)}</title>` +
    "<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin-bottom:1em}" +
    "td,th{border:1px solid #ccc;padding:.25em .75em;text-align:right}</style></head><body>\n" +
    sections.join("\n") +
    "\n</body></html>\n"
  );
}
