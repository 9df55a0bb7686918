import path from "node:path";
import { loadSync, type AnyDefinition, type EnumTypeDefinition, type MessageTypeDefinition, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { PROTO_ROOT } from "@rs/idl";
import { fixMapEntryNames } from "./map-entry-names.js";

/** The health proto's include root and path within it (`health/v1/health.proto`). */
const HEALTH_PROTO_ROOT = path.resolve(path.dirname(healthProtoPath), "../..");
const HEALTH_PROTO_FILE = path.relative(HEALTH_PROTO_ROOT, healthProtoPath);

/**
 * Builds gRPC reflection over the given `.proto` files (relative to
 * {@link PROTO_ROOT}) plus grpc.health.v1, so `grpcurl list` shows both and
 * `grpcurl`/`ghz` can call without local protos. Map entry names are
 * corrected on the way (see {@link fixMapEntryNames}).
 */
export function createReflection(protoFiles: readonly string[]): ReflectionService {
  const definition: PackageDefinition = loadSync([...protoFiles, HEALTH_PROTO_FILE], {
    includeDirs: [PROTO_ROOT, HEALTH_PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const fixed = new Map<Uint8Array, Buffer>();
  for (const entry of Object.values(definition)) {
    if (!carriesDescriptors(entry)) continue;
    entry.fileDescriptorProtos = entry.fileDescriptorProtos.map((bin) => {
      let out = fixed.get(bin);
      if (!out) fixed.set(bin, (out = Buffer.from(fixMapEntryNames(bin))));
      return out;
    });
  }
  return new ReflectionService(definition);
}

/** Message and enum entries carry their file's descriptors; service entries do not. */
export function carriesDescriptors(entry: AnyDefinition): entry is MessageTypeDefinition<object, object> | EnumTypeDefinition {
  return typeof (entry as { format?: unknown }).format === "string";
}
