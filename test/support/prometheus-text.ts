/**
 * Reading Prometheus metrics in tests: the text exposition format a process
 * serves on /metrics (or a registry's `metrics()`), parsed into samples, and
 * sums over the samples that carry given labels.
 */

export interface Sample {
  /** Sample name, e.g. `grpc_server_handling_seconds_count`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

const unescape = (v: string) => v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/** The samples of an exposition text (comment and blank lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(LABEL_PAIR)) labels[k!] = unescape(v!);
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** Samples named `name` whose labels include every pair of `labels`. */
export function samplesOf(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of {@link samplesOf}; 0 when there is none. */
export function sampleSum(samples: readonly Sample[], name: string, labels: Readonly<Record<string, string>> = {}): number {
  return samplesOf(samples, name, labels).reduce((n, s) => n + s.value, 0);
}

/** What a registry offers (prom-client's `Registry` fits). */
export interface MetricsSource {
  metrics(): Promise<string>;
}

/** The samples a registry holds right now. */
export async function registrySamples(registry: MetricsSource): Promise<Sample[]> {
  return parsePrometheusText(await registry.metrics());
}
