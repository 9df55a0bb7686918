import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigError, env, loadConfig, mysqlSettings, jwtSettings, withJwtKeyRules } from "../src/index.js";

const schema = withJwtKeyRules(z.object({ ...mysqlSettings, ...jwtSettings, PORT: env.port() }), ["verify"]);
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

describe("JWT settings", () => {
  const pair = () =>
    generateKeyPairSync("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
  const { privateKey, publicKey } = pair();
  const rs = { MYSQL_SHARD_DSNS: good.MYSQL_SHARD_DSNS, PORT: "8080", JWT_ALGORITHM: "RS256" };
  const issuer = withJwtKeyRules(z.object({ ...jwtSettings }), ["issue"]);

  it("defaults to HS256 with the documented TTL and clock tolerance", () => {
    const cfg = loadConfig(schema, good);
    expect(cfg.JWT_ALGORITHM).toBe("HS256");
    expect(cfg.JWT_TTL_SECONDS).toBe(7 * 24 * 3600);
    expect(cfg.JWT_CLOCK_TOLERANCE_SECONDS).toBe(5);
  });

  it("RS256: a verifier needs only the public key, and takes it with literal \\n line breaks", () => {
    const cfg = loadConfig(schema, { ...rs, JWT_PUBLIC_KEY: publicKey.replace(/\n/g, "\\n") });
    expect(cfg.JWT_PUBLIC_KEY).toBe(publicKey);
    expect(cfg.JWT_SECRET).toBeUndefined();
  });

  it("RS256: names the missing key of each use", () => {
    expect(issues({ ...rs }).map((i) => i.variable)).toEqual(["JWT_PUBLIC_KEY"]);
    expect(() => loadConfig(issuer, { JWT_ALGORITHM: "RS256" })).toThrow(/JWT_PRIVATE_KEY: is required when JWT_ALGORITHM is RS256/);
    expect(loadConfig(issuer, { JWT_ALGORITHM: "RS256", JWT_PRIVATE_KEY: privateKey }).JWT_PRIVATE_KEY).toBe(privateKey);
  });

  it("RS256: refuses a private key given as the public one, garbage, and a pair that does not match, never echoing keys", () => {
    const asPublic = issues({ ...rs, JWT_PUBLIC_KEY: privateKey });
    expect(asPublic.map((i) => i.variable)).toEqual(["JWT_PUBLIC_KEY"]);
    expect(JSON.stringify(asPublic)).not.toContain("PRIVATE");
    expect(issues({ ...rs, JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" })[0]!.message).toContain("RSA public key");
    const other = pair();
    expect(() => loadConfig(issuer, { JWT_ALGORITHM: "RS256", JWT_PRIVATE_KEY: privateKey, JWT_PUBLIC_KEY: other.publicKey })).toThrow(
      /JWT_PUBLIC_KEY: is not the public half of JWT_PRIVATE_KEY/,
    );
  });

  it("refuses an unknown algorithm and a small RSA key", () => {
    expect(issues({ ...good, JWT_ALGORITHM: "none" }).map((i) => i.variable)).toEqual(["JWT_ALGORITHM"]);
    const small = generateKeyPairSync("rsa", {
      modulusLength: 1024,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    expect(issues({ ...rs, JWT_PUBLIC_KEY: small.publicKey })[0]!.message).toContain("at least 2048 bits");
  });
});
