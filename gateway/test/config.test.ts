import { describe, expect, it } from "vitest";
import { ConfigError } from "@rs/config";
import { GATEWAY_DEFAULTS, loadGatewayConfig } from "../src/config.js";

const base = { JWT_SECRET: "s".repeat(40), REDIS_URL: "redis://127.0.0.1:6379", ETCD_ENDPOINTS: "http://127.0.0.1:2379", HTTP_PORT: "8888" };

function issues(env: Record<string, string | undefined>): string[] {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => i.variable);
    throw err;
  }
  return [];
}

describe("gateway settings", () => {
  it("start with only what the local stack passes, everything else defaulted", () => {
    const cfg = loadGatewayConfig(base);
    expect(cfg.USER_SERVICE_NAME).toBe("user");
    expect(cfg.RELATION_SERVICE_NAME).toBe("relation");
    expect(cfg.COUNT_SERVICE_NAME).toBe("count");
    expect(cfg.CORS_ORIGINS).toEqual([]);
    expect(cfg.RATE_LIMIT_FAIL_OPEN).toBe(true);
    expect(cfg.HTTP_BODY_LIMIT).toBe(GATEWAY_DEFAULTS.bodyLimit);
    expect(cfg.JWT_ALGORITHM).toBe("HS256");
  });

  it("CORS_ORIGINS: a list of origins or *", () => {
    expect(loadGatewayConfig({ ...base, CORS_ORIGINS: "https://a.example.com, http://localhost:3000" }).CORS_ORIGINS).toEqual([
      "https://a.example.com",
      "http://localhost:3000",
    ]);
    expect(loadGatewayConfig({ ...base, CORS_ORIGINS: "*" }).CORS_ORIGINS).toEqual(["*"]);
    expect(issues({ ...base, CORS_ORIGINS: "https://a.example.com/path" })).toEqual(["CORS_ORIGINS"]);
    expect(issues({ ...base, CORS_ORIGINS: "a.example.com" })).toEqual(["CORS_ORIGINS"]);
  });

  it("rates accept fractions; a bad value is named", () => {
    expect(loadGatewayConfig({ ...base, RATE_LIMIT_AUTH_REFILL_PER_SECOND: "0.2" }).RATE_LIMIT_AUTH_REFILL_PER_SECOND).toBe(0.2);
    expect(loadGatewayConfig({ ...base, RATE_LIMIT_FAIL_OPEN: "false" }).RATE_LIMIT_FAIL_OPEN).toBe(false);
    expect(issues({ ...base, RATE_LIMIT_USER_REFILL_PER_SECOND: "0", RATE_LIMIT_IP_CAPACITY: "-1", RATE_LIMIT_FAIL_OPEN: "maybe" }).sort()).toEqual([
      "RATE_LIMIT_FAIL_OPEN",
      "RATE_LIMIT_IP_CAPACITY",
      "RATE_LIMIT_USER_REFILL_PER_SECOND",
    ]);
  });

  it("token settings: HS256 needs JWT_SECRET, RS256 needs JWT_PUBLIC_KEY (a verifier never gets the private key)", () => {
    expect(issues({ ...base, JWT_SECRET: undefined })).toEqual(["JWT_SECRET"]);
    expect(issues({ ...base, JWT_SECRET: undefined, JWT_ALGORITHM: "RS256" })).toEqual(["JWT_PUBLIC_KEY"]);
    expect(issues({ ...base, JWT_ALGORITHM: "none" })).toEqual(["JWT_ALGORITHM"]);
  });
});
