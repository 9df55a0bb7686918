import { describe, expect, it } from "vitest";
import { decodeInstance, encodeInstance, instanceKey, servicePrefix } from "../src/instance.js";

describe("registration keys and values", () => {
  it("builds /services/<service>/<instanceId>", () => {
    expect(servicePrefix("user")).toBe("/services/user/");
    expect(instanceKey("user", "host-1-42")).toBe("/services/user/host-1-42");
  });

  it("refuses names that would break the key layout", () => {
    expect(() => servicePrefix("")).toThrow();
    expect(() => instanceKey("user", "a/b")).toThrow();
    expect(() => servicePrefix("us/er")).toThrow();
  });

  it("round-trips the JSON value", () => {
    const instance = { instanceId: "i1", address: "127.0.0.1:8080", startedAt: "2026-11-25T00:00:00.000Z" };
    const value = encodeInstance(instance);
    expect(JSON.parse(value)).toEqual(instance);
    expect(decodeInstance("/services/user/i1", value)).toEqual(instance);
  });

  it("takes the instance id from the key and rejects malformed values", () => {
    expect(decodeInstance("/services/user/i2", JSON.stringify({ address: "h:1", instanceId: "other" }))?.instanceId).toBe("i2");
    expect(decodeInstance("/services/user/i3", "not json")).toBeUndefined();
    expect(decodeInstance("/services/user/i3", JSON.stringify({ address: "no-port" }))).toBeUndefined();
    expect(decodeInstance("/services/user/i3", JSON.stringify({ address: 42 }))).toBeUndefined();
    expect(decodeInstance("/services/user/i3", "null")).toBeUndefined();
  });
});
