/**
 * A flame graph of a V8 CPU profile (`node --cpu-prof` writes one .cpuprofile
 * per process): the samples of a time window, their stacks merged by frame
 * (function, file, line), each frame as wide as its samples, the root at the
 * bottom. V8's pseudo-frames (idle), (program) (native code V8 cannot name)
 * and (garbage collector) stay separate blocks in their own colours. Pure:
 * bench/flame-graph.ts reads the profile and writes the SVG and PNG.
 */

/** The parts of a .cpuprofile used here (times in µs). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A merged frame: its samples including callees (`total`), its own (`self`), its callees by label. */
export interface Frame {
  label: string;
  total: number;
  self: number;
  children: Map<string, Frame>;
}

export const PSEUDO_FRAMES = ["(idle)", "(program)", "(garbage collector)"] as const;

/** `/work/x/node_modules/.pnpm/a@1/node_modules/a/lib/b.js` → `a/lib/b.js`; the repository's own files relative to it. */
export function shortUrl(url: string, root = ""): string {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) return path.slice(nm + "/node_modules/".length);
  return root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/** `name file:line`; no line where V8 has none (0: code tsx compiled on the fly reports every function on line 1). */
const labelOf = (f: CpuProfile["nodes"][number]["callFrame"], root: string) =>
  f.url ? `${f.functionName || "(anonymous)"} ${shortUrl(f.url, root)}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ""}` : f.functionName || "(anonymous)";

/** Each sample's time in seconds since the profile's start. */
export function sampleTimes(p: CpuProfile): number[] {
  let t = p.startTime;
  return p.timeDeltas.map((d) => ((t += d) - p.startTime) / 1e6);
}

/** The merged tree of the samples taken between `from` and `to` seconds (whole profile by default). */
export function mergeStacks(p: CpuProfile, opts: { from?: number; to?: number; root?: string } = {}): Frame {
  const hits = new Map<number, number>();
  const times = sampleTimes(p);
  p.samples.forEach((id, i) => {
    const t = times[i]!;
    if (t >= (opts.from ?? 0) && t <= (opts.to ?? Infinity)) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const childIds = new Set(p.nodes.flatMap((n) => n.children ?? []));
  const top: Frame = { label: "all", total: 0, self: 0, children: new Map() };
  const add = (id: number, into: Frame) => {
    const node = byId.get(id)!;
    const label = labelOf(node.callFrame, opts.root ?? "");
    let frame = into.children.get(label);
    if (!frame) into.children.set(label, (frame = { label, total: 0, self: 0, children: new Map() }));
    const own = hits.get(id) ?? 0;
    frame.self += own;
    let total = own;
    for (const c of node.children ?? []) total += add(c, frame);
    frame.total += total;
    if (frame.total === 0) into.children.delete(label); // nothing of it in the window
    return total;
  };
  // V8's own root frame "(root)" is skipped: its children are the graph's bottom row
  for (const n of p.nodes.filter((n) => !childIds.has(n.id))) for (const c of n.children ?? []) top.total += add(c, top);
  return top;
}

/** Frames by inclusive samples, each label counted once per stack (recursion does not count twice), and by self samples. */
export function topFrames(tree: Frame, n: number, hide: readonly string[] = []): { inclusive: [string, number][]; self: [string, number][] } {
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const walk = (f: Frame, onStack: Set<string>) => {
    self.set(f.label, (self.get(f.label) ?? 0) + f.self);
    if (!onStack.has(f.label)) inclusive.set(f.label, (inclusive.get(f.label) ?? 0) + f.total);
    const next = new Set(onStack).add(f.label);
    for (const c of f.children.values()) walk(c, next);
  };
  for (const c of tree.children.values()) if (!hide.includes(c.label)) walk(c, new Set());
  const best = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { inclusive: best(inclusive), self: best(self) };
}

const ROW = 17;
const CHAR_PX = 6.6;
const MIN_PX = 0.3;

function colour(label: string): string {
  if (label === "(idle)") return "#d8d8d8";
  if (label === "(program)") return "#a0a0a0";
  if (label === "(garbage collector)") return "#e0584c";
  // a stable hue per frame within a band: the repository's code orange, packages yellow, node's own blue
  const h = [...label].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7) % 40;
  if (label.includes(" node:")) return `hsl(${200 + h / 2}, 55%, ${62 + (h % 10)}%)`;
  if (/ (services|pkg|gateway|bench|idl)\//.test(label)) return `hsl(${15 + h / 2}, 85%, ${58 + (h % 10)}%)`;
  return `hsl(${40 + h / 2}, 80%, ${58 + (h % 10)}%)`;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** The flame graph as an SVG document `width` pixels wide; `hide` drops root frames (e.g. "(idle)") from the width, `title` heads it. */
export function flameSvg(tree: Frame, opts: { width?: number; title: string; hide?: readonly string[] }): string {
  const width = opts.width ?? 1800;
  const roots = [...tree.children.values()].filter((f) => !opts.hide?.includes(f.label));
  // the JS stacks first, widest first; the pseudo-frames after them, at the right
  const pseudo = (f: Frame) => (PSEUDO_FRAMES as readonly string[]).includes(f.label);
  roots.sort((a, b) => Number(pseudo(a)) - Number(pseudo(b)) || b.total - a.total);
  const total = roots.reduce((n, f) => n + f.total, 0) || 1;
  const scale = width / total;
  const boxes: { x: number; depth: number; w: number; f: Frame }[] = [];
  let maxDepth = 0;
  const place = (f: Frame, x: number, depth: number) => {
    const w = f.total * scale;
    if (w < MIN_PX) return;
    boxes.push({ x, depth, w, f });
    maxDepth = Math.max(maxDepth, depth);
    let cx = x;
    for (const c of [...f.children.values()].sort((a, b) => b.total - a.total)) {
      place(c, cx, depth + 1);
      cx += c.total * scale;
    }
  };
  let x = 0;
  for (const f of roots) {
    place(f, x, 0);
    x += f.total * scale;
  }
  const header = 40;
  const height = header + (maxDepth + 1) * ROW + 4;
  const rects = boxes.map(({ x, depth, w, f }) => {
    const y = height - (depth + 1) * ROW - 2;
    const pct = ((f.total / total) * 100).toFixed(1);
    const fits = Math.floor((w - 6) / CHAR_PX);
    const text = fits >= 3 ? (f.label.length <= fits ? f.label : `${f.label.slice(0, fits - 2)}..`) : "";
    return (
      `<g><title>${escape(f.label)}: ${f.total} samples (${pct} %), self ${f.self}</title>` +
      `<rect x="${x.toFixed(2)}" y="${y}" width="${Math.max(w - 0.5, 0.5).toFixed(2)}" height="${ROW - 1}" fill="${colour(f.label)}"/>` +
      (text ? `<text x="${(x + 3).toFixed(2)}" y="${y + 12}">${escape(text)}</text>` : "") +
      `</g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="4" y="16" font-size="14" font-family="sans-serif">${escape(opts.title)}</text>` +
    `<text x="4" y="33" font-size="11" font-family="sans-serif" fill="#555">width = samples; orange: this repository, yellow: packages, blue: Node.js, ` +
    `grey: (program) / (idle), red: (garbage collector); hover a frame for its numbers</text>` +
    rects.join("") +
    `</svg>\n`
  );
}
