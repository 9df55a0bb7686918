/**
 * A request the decoder cannot read (ts-proto throws on an int64 beyond 2^53)
 * is the caller's fault: grpc-js would answer INTERNAL, so the deserializers are
 * wrapped to hand the handler a marker it refuses with INVALID_ARGUMENT.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { invalidArgument } from "@rs/errors";

const UNDECODABLE = Symbol("rs.count.undecodable");

/** The same service definition, with deserializers that never throw. */
export function withSafeDecoding<D extends ServiceDefinition>(definition: D): D {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return { [UNDECODABLE]: err instanceof Error ? err.message : String(err) };
        }
      },
    };
  }
  return out as D;
}

/** Throws INVALID_ARGUMENT for a request the decoder could not read. */
export function assertDecoded(request: unknown): void {
  if (typeof request === "object" && request !== null && UNDECODABLE in request) {
    throw invalidArgument(`malformed request: ${String((request as Record<symbol, unknown>)[UNDECODABLE])}`);
  }
}
