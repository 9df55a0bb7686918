/**
 * Requests that cannot be decoded are the caller's fault, not ours. grpc-js
 * answers a throwing deserializer with INTERNAL; ts-proto's decoder throws on an
 * int64 beyond 2^53 (forceLong=number). Wrapping the deserializers turns such a
 * request into a marker the handler refuses with INVALID_ARGUMENT.
 */
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { invalidArgument } from "@rs/errors";

const UNDECODABLE = Symbol("rs.grpc.undecodable");

interface Undecodable {
  readonly [UNDECODABLE]: string;
}

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
          return { [UNDECODABLE]: err instanceof Error ? err.message : String(err) } satisfies Undecodable;
        }
      },
    };
  }
  return out as D;
}

/** Throws INVALID_ARGUMENT for a request the decoder could not read. */
export function assertDecoded(request: unknown): void {
  if (typeof request === "object" && request !== null && UNDECODABLE in request) {
    throw invalidArgument(`malformed request: ${(request as Undecodable)[UNDECODABLE]}`);
  }
}
