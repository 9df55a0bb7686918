import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, type Link } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { RateLimitingSampler, samplerFromEnv } from "../src/suite-sampler.js";

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const parent = (sampled: boolean) =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: "b7ad6b7169203331",
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
const link = (sampled: boolean): Link => ({
  context: { traceId: TRACE_ID, spanId: "00f067aa0ba902b7", traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE },
});

describe("RateLimitingSampler", () => {
  it("keeps at most the configured number of traces a second and refills with time", () => {
    let now = 0;
    const sampler = new RateLimitingSampler(3, () => now);
    const decide = () => sampler.shouldSample().decision;
    expect([decide(), decide(), decide(), decide()]).toEqual([
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.RECORD_AND_SAMPLED,
      SamplingDecision.NOT_RECORD,
    ]);
    now += 1000 / 3; // one token back
    expect([decide(), decide()]).toEqual([SamplingDecision.RECORD_AND_SAMPLED, SamplingDecision.NOT_RECORD]);
    now += 60_000; // never more than one second's worth
    expect(Array.from({ length: 4 }, decide).filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(3);
  });
});

describe("samplerFromEnv", () => {
  const decide = (env: NodeJS.ProcessEnv, ctx = ROOT_CONTEXT, kind = SpanKind.SERVER, links: Link[] = []) =>
    samplerFromEnv(env).shouldSample(ctx, TRACE_ID, "op", kind, {}, links).decision;

  it("drops parentless client spans (background work) whatever the setting", () => {
    expect(decide({ OTEL_TRACES_SAMPLER: "always_on" }, ROOT_CONTEXT, SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({}, ROOT_CONTEXT, SpanKind.CLIENT)).toBe(SamplingDecision.NOT_RECORD);
    // A client span inside a sampled request is kept.
    expect(decide({}, parent(true), SpanKind.CLIENT)).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("follows the caller's decision by default", () => {
    expect(decide({}, parent(true))).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({}, parent(false))).toBe(SamplingDecision.NOT_RECORD);
  });

  it("samples a root span linked to a sampled span (a batch carrying a sampled request's record)", () => {
    expect(decide({ OTEL_TRACES_SAMPLER: "always_off" }, ROOT_CONTEXT, SpanKind.CONSUMER, [link(false), link(true)])).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide({ OTEL_TRACES_SAMPLER: "always_off" }, ROOT_CONTEXT, SpanKind.CONSUMER, [link(false)])).toBe(SamplingDecision.NOT_RECORD);
  });

  it("rate-limits new traces by default (OTEL_TRACES_SAMPLER_ARG a second)", () => {
    const sampler = samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: "2" });
    const decisions = Array.from({ length: 5 }, () => sampler.shouldSample(ROOT_CONTEXT, TRACE_ID, "op", SpanKind.SERVER, {}, []).decision);
    expect(decisions.filter((d) => d === SamplingDecision.RECORD_AND_SAMPLED)).toHaveLength(2);
  });

  it("takes a ratio for traceidratio samplers", () => {
    expect(decide({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" })).toBe(SamplingDecision.NOT_RECORD);
    expect(decide({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "1" })).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it("refuses an unknown sampler or a bad argument with the variable's name", () => {
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER "sometimes" is not one of/);
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER_ARG: "lots" })).toThrow(/OTEL_TRACES_SAMPLER_ARG must be a non-negative number/);
  });
});
