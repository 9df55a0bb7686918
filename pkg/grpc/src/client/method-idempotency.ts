/**
 * Which methods a client may retry and which breaker class they share, read
 * from the contracts themselves: the `idempotency_level` option of each rpc in
 * the suite's .proto files (@rs/idl). ts-proto's grpc-js output does not carry
 * method options, so the .proto files are loaded once with proto-loader
 * (which servers load anyway, for reflection) and looked up by method path.
 *
 * - `NO_SIDE_EFFECTS`: a read; retried, in the read breaker class.
 * - `IDEMPOTENT`: a write that is safe to repeat (Logout); retried, in the
 *   write class.
 * - unset: a write; never retried (a lost answer must not become a second write).
 */
import type { ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type AnyDefinition, type ServiceDefinition as LoadedService } from "@grpc/proto-loader";
import { PROTO_ROOT, protoFiles } from "@rs/idl";

export type IdempotencyLevel = "IDEMPOTENCY_UNKNOWN" | "NO_SIDE_EFFECTS" | "IDEMPOTENT";

let levels: ReadonlyMap<string, IdempotencyLevel> | undefined;

/** The idempotency_level of every rpc of the suite's protos, by gRPC path (`/user.v1.UserService/GetUser`). */
export function idempotencyLevels(): ReadonlyMap<string, IdempotencyLevel> {
  if (levels) return levels;
  const definition = loadSync(Object.values(protoFiles), { includeDirs: [PROTO_ROOT] });
  const byPath = new Map<string, IdempotencyLevel>();
  for (const entry of Object.values(definition)) {
    if (!isService(entry)) continue;
    for (const method of Object.values(entry)) {
      const level = (method.options as { idempotency_level?: IdempotencyLevel } | undefined)?.idempotency_level;
      byPath.set(method.path, level ?? "IDEMPOTENCY_UNKNOWN");
    }
  }
  return (levels = byPath);
}

/** Message and enum entries have a `format`; service entries are maps of methods. */
const isService = (entry: AnyDefinition): entry is LoadedService => typeof (entry as { format?: unknown }).format !== "string";

/** The methods of a generated service that may be retried, and those that are reads, as the protos declare them. */
export function methodIdempotency(service: ServiceDefinition): { readonly idempotent: readonly string[]; readonly reads: readonly string[] } {
  const known = idempotencyLevels();
  const entries = Object.entries(service).map(([name, def]) => [name, known.get(def.path) ?? "IDEMPOTENCY_UNKNOWN"] as const);
  return {
    idempotent: entries.filter(([, level]) => level !== "IDEMPOTENCY_UNKNOWN").map(([name]) => name),
    reads: entries.filter(([, level]) => level === "NO_SIDE_EFFECTS").map(([name]) => name),
  };
}
