/**
 * The /api OpenAPI document: valid OpenAPI 3.1, and it lists exactly the routes
 * the Express router serves (both are built from the same declarations; this
 * checks the router too, so a route added by hand would be caught).
 */
import { describe, expect, it } from "vitest";
import { apiRouter, apiRoutes } from "../src/api/api.router.js";
import { buildOpenApiDocument } from "../src/api/openapi.js";
import { offlineDeps, unusedClients } from "./support/offline-deps.js";
import { expectRefsResolve, expectValidOpenApi31, operationsOf, servedRoutes } from "./support/openapi-checks.js";

const deps = offlineDeps();
const routes = apiRoutes(unusedClients(), deps.config);
const doc = buildOpenApiDocument(routes, "test");
type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
};
const operations = operationsOf<Operation>(doc);

describe("the /api OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    await expectValidOpenApi31(doc);
  });

  it("lists every route the router serves, and nothing else", () => {
    const routerRoutes = servedRoutes(apiRouter(deps), "/api").filter((r) => r !== "GET /api/openapi.json");
    expect(operations.map((o) => o.key).sort()).toEqual(routerRoutes.sort());
    expect(operations).toHaveLength(routes.length);
  });

  it("has the page routes, the user routes and a route per relation RPC", () => {
    const keys = operations.map((o) => o.key);
    for (const k of [
      "POST /api/relation/follow",
      "GET /api/relation/get_follower",
      "GET /api/relation/get_fans",
      "POST /api/relation/unfollow",
      "GET /api/relation/is_following",
      "POST /api/relation/is_following/batch",
      "GET /api/relation/mutual",
      "GET /api/relation/following",
      "GET /api/relation/fans",
      "GET /api/relation/friends",
      "GET /api/relation/common_following",
      "GET /api/user/{userId}/counts",
      "POST /api/user/register",
      "POST /api/user/login",
      "POST /api/user/logout",
      "GET /api/user/me",
      "GET /api/user/{userId}",
      "POST /api/user/batch",
    ]) {
      expect(keys).toContain(k);
    }
  });

  it("documents parameters, auth and errors of each operation", () => {
    const get = (k: string) => operations.find((o) => o.key === k)!.op;
    const fansPage = get("GET /api/relation/get_fans");
    expect(fansPage.parameters?.map((p) => p.name).sort()).toEqual(["page", "pageSize", "userId"]);
    expect(fansPage.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(fansPage.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "429", "503"]));
    expect(get("GET /api/user/{userId}").parameters).toEqual([expect.objectContaining({ name: "userId", in: "path", required: true })]);
    expect(get("POST /api/user/register").security).toEqual([]);
    expect(Object.keys(get("POST /api/user/register").responses)).toEqual(expect.arrayContaining(["201", "409"]));
    expect(get("POST /api/relation/follow").requestBody).toBeDefined();
    for (const { op } of operations) expect(op.operationId).toBeTruthy();
    expect(new Set(operations.map((o) => o.op.operationId)).size).toBe(operations.length);
  });

  it("every $ref points at a component", () => {
    expect(expectRefsResolve(doc).length).toBeGreaterThan(0);
  });
});
