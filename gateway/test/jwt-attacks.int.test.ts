/**
 * Token forgeries through HTTP, against the gateway in front of the REAL user
 * and relation services. Each forged token differs from an accepted one in one
 * way only (a hand-signed control token with the right claims is accepted), and
 * each is refused on /api (401) and on /douyin (status_code 401), and a write
 * attempted with it changes nothing.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flipSignature, hmacToken, rsaPair, rsaToken, unsignedToken, withPayload } from "../../pkg/auth/test/jwt-fixtures.js";
import { api, douyin, uniqueName } from "./support/http.js";
import { startLiveSuite, type LiveSuite } from "./support/live-suite.js";

let s: LiveSuite;
let victim: { id: number; token: string };
let target: { id: number; token: string };
const HOUR = 3600;
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  s = await startLiveSuite();
  const reg = async () => {
    const r = await douyin<{ user_id: number; token: string }>(s.url, "POST", "/user/register/", { username: uniqueName("jwt"), password: "secret-pw" });
    return { id: r.body.user_id, token: r.body.token };
  };
  [victim, target] = [await reg(), await reg()];
});
afterAll(async () => {
  await s?.stop();
});

/** Claims of a token the gateway would accept, for the victim, unless overridden. */
const claims = (over: Record<string, unknown> = {}) => ({
  sub: String(victim.id),
  jti: randomBytes(12).toString("base64url"),
  iss: s.jwt.issuer,
  aud: s.jwt.audience,
  iat: nowS(),
  exp: nowS() + HOUR,
  ...over,
});
const HS = { alg: "HS256", typ: "JWT" };
const signed = (over: Record<string, unknown> = {}) => hmacToken(HS, claims(over), s.jwt.secret);

/** True when `target` has no fans: no forged write went through. */
async function targetHasNoFans() {
  const r = await api<{ totalCount: number }>(s.url, "GET", "/relation/fans", { token: target.token, query: { userId: target.id } });
  expect(r.status).toBe(200);
  return r.body.totalCount === 0;
}

/** The token is refused by both families, and a follow attempted with it is not made. */
async function expectRefused(base: string, token: string) {
  const me = await api(base, "GET", "/user/me", { token });
  expect(me.status).toBe(401);
  expect(me.headers.get("www-authenticate")).toMatch(/^Bearer/);
  expect(me.body).toMatchObject({ code: "UNAUTHENTICATED" });

  const follow = await api(base, "POST", "/relation/follow", { token, body: { followUserId: target.id } });
  expect(follow.status).toBe(401);
  const action = await douyin(base, "POST", "/relation/action/", { token, to_user_id: target.id, action_type: 1 });
  expect(action.status).toBe(200);
  expect(action.body).toMatchObject({ status_code: 401 });
  const list = await douyin(base, "GET", "/relation/follow/list/", { token, user_id: victim.id });
  expect(list.body).toMatchObject({ status_code: 401, user_list: [] });
  expect(await targetHasNoFans()).toBe(true);
}

describe("the control token", () => {
  it("a hand-signed token with the right claims is accepted (so each refusal below is for its one defect)", async () => {
    const me = await api(s.url, "GET", "/user/me", { token: signed() });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: victim.id });
  });
});

describe("forged tokens are refused", () => {
  it("alg: none (any spelling), signature empty or kept", async () => {
    for (const alg of ["none", "None", "NONE", "nOnE"]) await expectRefused(s.url, unsignedToken(alg, claims()));
    const [, , sig] = signed().split(".");
    await expectRefused(s.url, `${unsignedToken("none", claims())}${sig}`);
  });

  it("HS/RS confusion: an RS256 token at an HS256 gateway", async () => {
    const attacker = rsaPair();
    await expectRefused(s.url, rsaToken({ alg: "RS256", typ: "JWT" }, claims(), attacker.privateKey));
  });

  it("HS/RS confusion: an HS256 token keyed with the public key at an RS256 gateway", async () => {
    const keys = rsaPair();
    const rs = await s.startAnotherGateway({ JWT_ALGORITHM: "RS256", JWT_PUBLIC_KEY: keys.publicKey });
    // Control: that gateway accepts a real RS256 token.
    const good = rsaToken({ alg: "RS256", typ: "JWT" }, claims(), keys.privateKey);
    expect((await api(rs.url, "GET", "/user/me", { token: good })).status).toBe(200);
    // The classic attack: HMAC with the public key's PEM (and its DER) as the secret.
    await expectRefused(rs.url, hmacToken(HS, claims(), keys.publicKey));
    await expectRefused(rs.url, hmacToken(HS, claims(), Buffer.from(keys.publicKey.replace(/-----[^-]+-----|\s/g, ""), "base64")));
    // And a token HS256-signed with the HS secret the other gateways use.
    await expectRefused(rs.url, signed());
  });

  it("expired (beyond the clock tolerance)", async () => {
    await expectRefused(s.url, signed({ iat: nowS() - 2 * HOUR, exp: nowS() - HOUR }));
    await expectRefused(s.url, signed({ exp: nowS() - 60 }));
  });

  it("not yet valid: nbf or iat in the future", async () => {
    await expectRefused(s.url, signed({ nbf: nowS() + HOUR }));
    await expectRefused(s.url, signed({ iat: nowS() + HOUR, exp: nowS() + 2 * HOUR }));
  });

  it("tampered payload: another subject under a real signature", async () => {
    const real = signed();
    expect((await api(s.url, "GET", "/user/me", { token: real })).status).toBe(200);
    await expectRefused(s.url, withPayload(real, claims({ sub: String(target.id) })));
    await expectRefused(s.url, withPayload(real, { ...claims(), exp: nowS() + 100 * HOUR }));
  });

  it("tampered signature", async () => {
    await expectRefused(s.url, flipSignature(signed()));
    await expectRefused(s.url, flipSignature(victim.token));
    const [h, p] = signed().split(".");
    await expectRefused(s.url, `${h}.${p}.`);
  });

  it("wrong iss, wrong aud, missing either", async () => {
    await expectRefused(s.url, signed({ iss: "someone-else" }));
    await expectRefused(s.url, signed({ aud: "another-app" }));
    await expectRefused(s.url, signed({ aud: [s.jwt.audience.toUpperCase()] }));
    await expectRefused(s.url, signed({ iss: undefined }));
    await expectRefused(s.url, signed({ aud: undefined }));
  });

  it("a subject that is not a user id, or a missing jti", async () => {
    await expectRefused(s.url, signed({ sub: "admin" }));
    await expectRefused(s.url, signed({ sub: "0" }));
    await expectRefused(s.url, signed({ sub: "9007199254740993" }));
    await expectRefused(s.url, signed({ jti: undefined }));
  });

  it("revoked: a token logged out is refused everywhere, other sessions are not", async () => {
    const name = uniqueName("rev");
    const reg = await api<{ userId: number; token: string }>(s.url, "POST", "/user/register", { body: { username: name, password: "secret-pw" } });
    expect(reg.status).toBe(201);
    const other = await api<{ token: string }>(s.url, "POST", "/user/login", { body: { username: name, password: "secret-pw" } });
    const token = reg.body.token;
    expect((await api(s.url, "GET", "/user/me", { token })).status).toBe(200);

    const out = await api(s.url, "POST", "/user/logout", { token });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ success: true });

    expect((await api(s.url, "GET", "/user/me", { token })).status).toBe(401);
    expect((await douyin(s.url, "GET", "/user/", { token })).body).toMatchObject({ status_code: 401, user: null });
    expect((await douyin(s.url, "POST", "/relation/action/", { token, to_user_id: target.id, action_type: 1 })).body).toMatchObject({ status_code: 401 });
    expect((await api(s.url, "POST", "/user/logout", { token })).status).toBe(401);
    expect(await targetHasNoFans()).toBe(true);
    // The other session of the same user still works.
    expect((await api(s.url, "GET", "/user/me", { token: other.body.token })).status).toBe(200);
  });
});

describe("how the token is presented", () => {
  it("/api takes only `Authorization: Bearer`", async () => {
    expect((await api(s.url, "GET", "/user/me")).status).toBe(401);
    for (const header of [`Basic ${victim.token}`, `Bearer`, `Bearer  ${victim.token}`, `bearer${victim.token}`, `Bearer ${victim.token} extra`]) {
      expect((await api(s.url, "GET", "/user/me", { headers: { authorization: header } })).status).toBe(401);
    }
    // A token in the query is not how /api authenticates (it would end up in logs and caches).
    expect((await api(s.url, "GET", "/user/me", { query: { token: victim.token } })).status).toBe(401);
  });

  it("/douyin takes the `token` parameter, once", async () => {
    const url = new URL("/douyin/user/", s.url);
    url.search = `token=${victim.token}&token=${victim.token}`;
    expect(await (await fetch(url)).json()).toMatchObject({ status_code: 401, user: null });
    expect(await (await fetch(`${s.url}/douyin/user/?token=${"x".repeat(5000)}`)).json()).toMatchObject({ status_code: 401 });
  });
});
