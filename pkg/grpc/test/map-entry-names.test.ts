import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSync } from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { PROTO_ROOT, protoFiles } from "@rs/idl";
import { fixMapEntryNames, mapEntryName } from "../src/server/map-entry-names.js";
import { carriesDescriptors } from "../src/server/reflection.js";

function healthFileDescriptor(): Uint8Array {
  const root = path.resolve(path.dirname(protoPath), "../..");
  const def = loadSync("health/v1/health.proto", { includeDirs: [root] });
  const entry = def["grpc.health.v1.HealthListResponse"];
  if (!entry || !carriesDescriptors(entry)) throw new Error("health proto not loaded");
  return entry.fileDescriptorProtos[0]!;
}

const decode = (bin: Uint8Array) => fromBinary(FileDescriptorProtoSchema, bin);

describe("map entry names in reflection descriptors", () => {
  it("names entries like protoc does", () => {
    expect(mapEntryName("statuses")).toBe("StatusesEntry");
    expect(mapEntryName("counts_by_key")).toBe("CountsByKeyEntry");
    expect(mapEntryName("fooBar")).toBe("FooBarEntry");
  });

  it("renames the entry type of a map field and the field's reference to it", () => {
    const before = decode(healthFileDescriptor()).messageType.find((m) => m.name === "HealthListResponse")!;
    // What protobufjs (behind @grpc/proto-loader) produces, and strict clients reject:
    expect(before.nestedType?.[0]?.name).toBe("Statuses");
    const after = decode(fixMapEntryNames(healthFileDescriptor())).messageType.find((m) => m.name === "HealthListResponse")!;
    expect(after.nestedType?.[0]?.name).toBe("StatusesEntry");
    expect(after.field?.[0]?.typeName).toMatch(/(^|\.)StatusesEntry$/);
    // Everything else is kept.
    expect(decode(fixMapEntryNames(healthFileDescriptor())).messageType.map((m) => m.name)).toEqual(
      decode(healthFileDescriptor()).messageType.map((m) => m.name),
    );
  });

  it("returns files without maps untouched", () => {
    const def = loadSync(protoFiles.echo, { includeDirs: [PROTO_ROOT] });
    const entry = def["echo.v1.EchoRequest"];
    if (!entry || !carriesDescriptors(entry)) throw new Error("echo proto not loaded");
    const bin = entry.fileDescriptorProtos[0]!;
    expect(fixMapEntryNames(bin)).toBe(bin);
  });
});
