/** Small HTTP helpers for calling a gateway the way apps do. */

export interface Answer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

type Params = Record<string, string | number | undefined>;

const toSearch = (params: Params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) s.append(k, String(v));
  return s;
};

async function answer<T>(res: Response): Promise<Answer<T>> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/**
 * Calls a /douyin route with its parameters in the query string (`query`, what
 * the reference app does), as form fields (`form`) or as a JSON body (`json`).
 */
export async function douyin<T = Record<string, unknown>>(
  base: string,
  method: "GET" | "POST",
  path: string,
  params: Params,
  as: "query" | "form" | "json" = "query",
): Promise<Answer<T>> {
  const url = new URL(`/douyin${path}`, base);
  const init: RequestInit = { method };
  if (as === "query") url.search = toSearch(params).toString();
  else if (as === "form") init.body = toSearch(params);
  else {
    init.body = JSON.stringify(params);
    init.headers = { "content-type": "application/json" };
  }
  return answer<T>(await fetch(url, init));
}

/** Calls an /api route with an optional bearer token, query and JSON body. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: "GET" | "POST",
  path: string,
  opts: { token?: string; query?: Params; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const url = new URL(`/api${path}`, base);
  if (opts.query) url.search = toSearch(opts.query).toString();
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  return answer<T>(await fetch(url, { method, headers, body }));
}

/** A username no other test run uses (1–32 characters). */
export const uniqueName = (label: string) => `${label}_${Math.random().toString(36).slice(2, 10)}`.slice(0, 32);
