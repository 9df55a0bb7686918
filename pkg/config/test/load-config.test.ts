import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, env, loadConfig, mysqlSettings, jwtSettings } from "../src/index.js";

const schema = z.object({ ...mysqlSettings, ...jwtSettings, PORT: env.port() });
const good = {
  MYSQL_SHARD_DSNS: "mysql://u:p@127.0.0.1:3306/a,mysql://u:p@127.0.0.1:3306/b",
  JWT_SECRET: "x".repeat(40),
  PORT: "8080",
};

function issues(source: Record<string, string | undefined>) {
  try {
    loadConfig(schema, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("parses a valid environment into typed values with defaults", () => {
    const cfg = loadConfig(schema, good);
    expect(cfg.MYSQL_SHARD_DSNS).toHaveLength(2);
    expect(cfg.PORT).toBe(8080);
    expect(cfg.MYSQL_VIRTUAL_SHARDS).toBe(64);
    expect(cfg.JWT_ISSUER).toBe("relation-suite");
  });

  it("names a malformed DSN's variable and never echoes the value", () => {
    const found = issues({ ...good, MYSQL_SHARD_DSNS: "not-a-dsn-secretpw" });
    expect(found.map((i) => i.variable)).toEqual(["MYSQL_SHARD_DSNS"]);
    expect(JSON.stringify(found)).not.toContain("secretpw");
  });

  it("names a missing secret and a short one", () => {
    expect(issues({ ...good, JWT_SECRET: undefined }).map((i) => i.variable)).toEqual(["JWT_SECRET"]);
    expect(issues({ ...good, JWT_SECRET: "" })[0]!.message).toContain("required");
    const short = issues({ ...good, JWT_SECRET: "short" });
    expect(short[0]!.message).toContain("at least 32");
    expect(JSON.stringify(short)).not.toContain('"short"');
  });

  it("lists every wrong variable at once", () => {
    const found = issues({ PORT: "99999" });
    expect(found.map((i) => i.variable).sort()).toEqual(["JWT_SECRET", "MYSQL_SHARD_DSNS", "PORT"]);
  });

  it("refuses a DSN without a database name", () => {
    expect(issues({ ...good, MYSQL_SHARD_DSNS: "mysql://u:p@h:3306" })[0]!.variable).toBe("MYSQL_SHARD_DSNS");
  });
});
