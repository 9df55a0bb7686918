import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, type DescriptorProto } from "@bufbuild/protobuf/wkt";

/** protoc's name for the entry type of map field `foo_bar`: `FooBarEntry`. */
export function mapEntryName(fieldName: string): string {
  const camel = fieldName.replace(/_+([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
  return `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
}

function fixMessage(msg: DescriptorProto): boolean {
  let changed = false;
  for (const nested of msg.nestedType) changed = fixMessage(nested) || changed;
  for (const field of msg.field) {
    if (!field.name || !field.typeName) continue;
    const dot = field.typeName.lastIndexOf(".");
    const current = field.typeName.slice(dot + 1);
    const entry = msg.nestedType.find((n) => n.options?.mapEntry && n.name === current);
    const wanted = mapEntryName(field.name);
    if (!entry || current === wanted) continue;
    entry.name = wanted;
    field.typeName = field.typeName.slice(0, dot + 1) + wanted;
    changed = true;
  }
  return changed;
}

/**
 * protobufjs (behind @grpc/proto-loader) names the implicit entry type of
 * `map<K, V> statuses` "Statuses" where protoc says "StatusesEntry"; strict
 * reflection clients (grpcurl ≥ 1.8.8, built on Go's protodesc) then refuse
 * the whole file ("invalid map: incorrect implicit map entry name"). This rewrites such entries in a serialized
 * FileDescriptorProto; files without maps come back as the same buffer.
 */
export function fixMapEntryNames(serialized: Uint8Array): Uint8Array {
  const file = fromBinary(FileDescriptorProtoSchema, serialized);
  let changed = false;
  for (const msg of file.messageType) changed = fixMessage(msg) || changed;
  return changed ? toBinary(FileDescriptorProtoSchema, file) : serialized;
}
