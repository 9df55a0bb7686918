/**
 * Which traces are kept. Configured by the standard variables:
 *
 *   OTEL_TRACES_SAMPLER      parentbased_ratelimiting (default), parentbased_traceidratio,
 *                            parentbased_always_on, always_on, always_off, traceidratio
 *   OTEL_TRACES_SAMPLER_ARG  traces per second per process for ratelimiting (default 10),
 *                            the kept fraction for traceidratio (default 1)
 *
 * The default keeps every trace an engineer makes by hand and a bounded number
 * per second under load, so tracing can stay on during benchmarks; a process
 * that continues a trace (a callee, a consumer) always follows its caller's
 * decision. Two rules hold whatever the setting:
 *
 * - Background work is never a trace of its own: a span with no parent whose
 *   kind is CLIENT (an etcd keep-alive, a lease renewal, a poller's Redis or
 *   MySQL query) is dropped. Requests (SERVER), published events (PRODUCER)
 *   and consumed batches (CONSUMER) still start traces.
 * - A root span linked to a sampled span is sampled: a Kafka batch that
 *   carries a sampled request's record is recorded, so that request's trace
 *   leads to it.
 */
import { SpanKind, TraceFlags, type Attributes, type Context, type Link, trace } from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from "@opentelemetry/sdk-trace-base";

export const DEFAULT_TRACES_PER_SECOND = 10;

/** Keeps at most `perSecond` root traces a second (a token bucket holding one second's worth). */
export class RateLimitingSampler implements Sampler {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  shouldSample(): SamplingResult {
    const t = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return { decision: SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return `RateLimitingSampler{${this.perSecond}/s}`;
  }
}

const isSampled = (link: Link) => (link.context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

/** Applies the two fixed rules (see the file comment) before the configured sampler. */
export class SuiteSampler implements Sampler {
  constructor(private readonly delegate: Sampler) {}

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (trace.getSpanContext(ctx) === undefined) {
      if (kind === SpanKind.CLIENT) return { decision: SamplingDecision.NOT_RECORD };
      if (links.some(isSampled)) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return this.delegate.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `SuiteSampler{${this.delegate.toString()}}`;
  }
}

function numberArg(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a non-negative number for ${name}, got "${raw}"`);
  return n;
}

/** The sampler the environment asks for; an unknown name is an error naming the accepted ones. */
export function samplerFromEnv(env: NodeJS.ProcessEnv = process.env): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? "parentbased_ratelimiting").trim().toLowerCase();
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  const ratio = () => new TraceIdRatioBasedSampler(Math.min(1, numberArg(arg, 1, name)));
  const root = (): Sampler => {
    switch (name) {
      case "parentbased_ratelimiting":
        return new ParentBasedSampler({ root: new RateLimitingSampler(numberArg(arg, DEFAULT_TRACES_PER_SECOND, name)) });
      case "parentbased_traceidratio":
        return new ParentBasedSampler({ root: ratio() });
      case "parentbased_always_on":
        return new ParentBasedSampler({ root: new AlwaysOnSampler() });
      case "parentbased_always_off":
        return new ParentBasedSampler({ root: new AlwaysOffSampler() });
      case "always_on":
        return new AlwaysOnSampler();
      case "always_off":
        return new AlwaysOffSampler();
      case "traceidratio":
        return ratio();
      default:
        throw new Error(
          `OTEL_TRACES_SAMPLER "${name}" is not one of parentbased_ratelimiting, parentbased_traceidratio, parentbased_always_on, parentbased_always_off, always_on, always_off, traceidratio`,
        );
    }
  };
  return new SuiteSampler(root());
}
