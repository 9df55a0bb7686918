/**
 * A Jaeger trace (the query API's JSON) as a waterfall in the terminal: one
 * line per span in parent order, with its service, operation, start offset
 * from the trace's first span, duration, a bar on a common time axis, and its
 * error. Pure: fetching is in trace.ts.
 */

export interface JaegerTag {
  readonly key: string;
  readonly type?: string;
  readonly value: unknown;
}

export interface JaegerReference {
  readonly refType: "CHILD_OF" | "FOLLOWS_FROM";
  readonly traceID: string;
  readonly spanID: string;
}

export interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references?: readonly JaegerReference[];
  /** Microseconds since the epoch. */
  readonly startTime: number;
  /** Microseconds. */
  readonly duration: number;
  readonly tags?: readonly JaegerTag[];
  readonly logs?: readonly { readonly timestamp: number; readonly fields: readonly JaegerTag[] }[];
  readonly processID: string;
}

export interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string }>>;
}

export const tagValue = (span: JaegerSpan, key: string): unknown => span.tags?.find((t) => t.key === key)?.value;

/** The span's error, if it has one: its status message, else its exception's, else "error". */
export function spanError(span: JaegerSpan): string | undefined {
  const failed = tagValue(span, "otel.status_code") === "ERROR" || tagValue(span, "error") === true;
  if (!failed) return undefined;
  const description = tagValue(span, "otel.status_description");
  if (typeof description === "string" && description) return description;
  for (const log of span.logs ?? []) {
    const message = log.fields.find((f) => f.key === "exception.message")?.value;
    if (typeof message === "string" && message) return message;
  }
  return "error";
}

const DETAIL_CHARS = 70;

/** A few words that tell spans of one name apart: the statement of a database call, the size of a batch. */
export function spanDetail(span: JaegerSpan): string | undefined {
  const query = tagValue(span, "db.query.text") ?? tagValue(span, "db.statement");
  if (typeof query === "string" && query) {
    const ns = tagValue(span, "db.namespace") ?? tagValue(span, "db.name");
    const text = query.replace(/\b([0-9a-f]{8})[0-9a-f]{32}\b/g, "$1…").replace(/\s+/g, " ");
    const full = (typeof ns === "string" && ns ? `${ns}: ` : "") + text;
    return full.length > DETAIL_CHARS ? full.slice(0, DETAIL_CHARS - 1) + "…" : full;
  }
  const count = tagValue(span, "messaging.batch.message_count");
  const partition = tagValue(span, "messaging.destination.partition.id");
  if (count !== undefined) return `${String(count)} record${count === 1 ? "" : "s"}${partition !== undefined ? `, partition ${String(partition)}` : ""}`;
  return undefined;
}

/** The span's parent within its own trace, if it has one. */
function parentId(span: JaegerSpan): string | undefined {
  return span.references?.find((r) => r.refType === "CHILD_OF" && r.traceID === span.traceID)?.spanID;
}

/** References to spans of other traces: the links a batch consumer adds, followed by `./dev.sh trace`. */
export function foreignLinks(trace: JaegerTrace): JaegerReference[] {
  const seen = new Set<string>();
  const out: JaegerReference[] = [];
  for (const span of trace.spans) {
    for (const ref of span.references ?? []) {
      if (ref.traceID === trace.traceID || seen.has(ref.traceID)) continue;
      seen.add(ref.traceID);
      out.push(ref);
    }
  }
  return out;
}

/** The trace's root: the span with no parent in it (the earliest if several). */
export function rootSpan(trace: JaegerTrace): JaegerSpan | undefined {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const roots = trace.spans.filter((s) => {
    const p = parentId(s);
    return p === undefined || !ids.has(p);
  });
  return roots.sort((a, b) => a.startTime - b.startTime)[0];
}

export const serviceOf = (trace: JaegerTrace, span: JaegerSpan): string => trace.processes[span.processID]?.serviceName ?? "?";

const ms = (us: number) => `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;

/** Spans in depth-first parent order, each with its depth; orphans (parent not exported) start at depth 0. */
export function orderSpans(trace: JaegerTrace): { span: JaegerSpan; depth: number; last: boolean[] }[] {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const span of trace.spans) {
    const p = parentId(span);
    const key = p !== undefined && ids.has(p) ? p : undefined;
    const list = children.get(key) ?? [];
    list.push(span);
    children.set(key, list);
  }
  for (const list of children.values()) list.sort((a, b) => a.startTime - b.startTime || a.spanID.localeCompare(b.spanID));
  const out: { span: JaegerSpan; depth: number; last: boolean[] }[] = [];
  const walk = (key: string | undefined, depth: number, last: boolean[]) => {
    const list = children.get(key) ?? [];
    list.forEach((span, i) => {
      const path = [...last, i === list.length - 1];
      out.push({ span, depth, last: path });
      walk(span.spanID, depth + 1, path);
    });
  };
  walk(undefined, 0, []);
  return out;
}

export interface WaterfallOptions {
  /** Width of the time bar in characters. */
  readonly barWidth?: number;
  /** Prefix of every line (indents a linked trace under the span that links to it). */
  readonly indent?: string;
}

/** The waterfall as lines of text. */
export function formatWaterfall(trace: JaegerTrace, options: WaterfallOptions = {}): string[] {
  const barWidth = options.barWidth ?? 24;
  const indent = options.indent ?? "";
  if (trace.spans.length === 0) return [`${indent}trace ${trace.traceID}: no spans`];
  const t0 = Math.min(...trace.spans.map((s) => s.startTime));
  const t1 = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const total = Math.max(1, t1 - t0);
  const ordered = orderSpans(trace);
  // In the order the waterfall meets them: the entry service first.
  const services = new Set(ordered.map(({ span }) => serviceOf(trace, span)));
  const errors = trace.spans.filter((s) => spanError(s) !== undefined).length;
  const root = rootSpan(trace);
  const lines = [
    `${indent}trace ${trace.traceID}  ${root ? `${serviceOf(trace, root)}: ${root.operationName}` : ""}`,
    `${indent}${trace.spans.length} spans, ${services.size} services (${[...services].join(", ")}), ${ms(total)}${errors ? `, ${errors} with errors` : ""}`,
  ];
  const rows = ordered.map(({ span, depth, last }) => {
    const tree =
      last
        .slice(0, -1)
        .map((l) => (l ? "   " : "│  "))
        .join("") + (depth === 0 ? "" : last.at(-1) ? "└─ " : "├─ ");
    const from = Math.floor(((span.startTime - t0) / total) * barWidth);
    const width = Math.max(1, Math.round((span.duration / total) * barWidth));
    const bar = " ".repeat(Math.min(from, barWidth - 1)) + "█".repeat(Math.min(width, barWidth - Math.min(from, barWidth - 1)));
    const error = spanError(span);
    const links = (span.references ?? []).filter((r) => r.refType === "FOLLOWS_FROM" || r.traceID !== span.traceID).length;
    return {
      offset: ms(span.startTime - t0),
      duration: ms(span.duration),
      bar: bar.padEnd(barWidth),
      service: serviceOf(trace, span),
      operation:
        tree +
        span.operationName +
        (spanDetail(span) ? `  (${spanDetail(span)})` : "") +
        (links ? `  [${links} link${links > 1 ? "s" : ""}]` : "") +
        (error ? `  ERROR: ${error}` : ""),
    };
  });
  const w = {
    offset: Math.max(6, ...rows.map((r) => r.offset.length)),
    duration: Math.max(8, ...rows.map((r) => r.duration.length)),
    service: Math.max(7, ...rows.map((r) => r.service.length)),
  };
  lines.push(`${indent}${"start".padStart(w.offset)}  ${"duration".padStart(w.duration)}  ${"".padEnd(barWidth)}  ${"service".padEnd(w.service)}  operation`);
  for (const r of rows) {
    lines.push(`${indent}${r.offset.padStart(w.offset)}  ${r.duration.padStart(w.duration)}  ${r.bar}  ${r.service.padEnd(w.service)}  ${r.operation}`);
  }
  return lines;
}
