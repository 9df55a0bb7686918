import { describe, expect, it } from "vitest";
import { createLogger } from "@rs/logger";
import { Lifecycle } from "../src/lifecycle.js";

describe("Lifecycle", () => {
  it("runs steps in reverse order of registration, once, even when one fails", async () => {
    const ran: string[] = [];
    const lc = new Lifecycle(createLogger("test", "silent"));
    lc.add("close pools", () => void ran.push("close pools"));
    lc.add("drain", async () => {
      ran.push("drain");
      throw new Error("boom");
    });
    lc.add("deregister", () => void ran.push("deregister"));
    await Promise.all([lc.stop(), lc.stop()]);
    expect(ran).toEqual(["deregister", "drain", "close pools"]);
  });
});
