// plaza's REST API as the app calls it: JSON in and out, the bearer token
// on every call, one refresh (shared by every call that needs it) when the
// access token has expired, and plaza's error format (docs/api.md) as an
// ApiError. The app uses only what the OpenAPI document at /api-docs
// lists; nothing here is private to the web app.

import type { Tokens } from './types';

/** An error answer from plaza, in its error format. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | null = null,
    readonly requestId: string | null = null,
  ) {
    super(message);
  }

  /** The message for one field of a 422, if plaza named it. */
  field(name: string): string | undefined {
    const fields = this.details?.['fields'] as Record<string, string> | undefined;
    return fields?.[name];
  }
}

const KEY = 'plaza.session';

/** Where the tokens live between page loads. */
export interface TokenStore {
  load(): Tokens | null;
  save(t: Tokens | null): void;
}

export const browserStore: TokenStore = {
  load() {
    try {
      const raw = localStorage.getItem(KEY);
      return raw ? (JSON.parse(raw) as Tokens) : null;
    } catch {
      return null;
    }
  },
  save(t) {
    if (t) localStorage.setItem(KEY, JSON.stringify(t));
    else localStorage.removeItem(KEY);
  },
};

type Listener = (t: Tokens | null) => void;

/** A client for one origin; `api` below is the app's. */
export class Client {
  private tokens: Tokens | null;
  private refreshing: Promise<boolean> | null = null;
  private listeners = new Set<Listener>();

  constructor(
    private readonly base = '',
    private readonly store: TokenStore = browserStore,
    private readonly fetcher: typeof fetch = (...a) => fetch(...a),
  ) {
    this.tokens = store.load();
  }

  get signedIn(): boolean {
    return this.tokens !== null;
  }

  get accessToken(): string | null {
    return this.tokens?.access_token ?? null;
  }

  /** Called whenever the tokens change (sign-in, refresh, sign-out). */
  onTokens(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  setTokens(t: { access_token: string; refresh_token: string } | null): void {
    this.tokens = t ? { access_token: t.access_token, refresh_token: t.refresh_token } : null;
    this.store.save(this.tokens);
    for (const l of this.listeners) l(this.tokens);
  }

  /** Trades the refresh token for a new pair; false when the session ended. */
  refresh(): Promise<boolean> {
    if (!this.tokens) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      // Another tab refreshed: its pair is newer, and ours would be a replay.
      const newer = this.store.load();
      if (newer && newer.refresh_token !== this.tokens?.refresh_token) {
        this.setTokens(newer);
        return true;
      }
      const sent = this.tokens?.refresh_token;
      try {
        const res = await this.fetcher(`${this.base}/api/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: sent }),
        });
        if (res.ok) {
          this.setTokens(await res.json());
          return true;
        }
        // Another tab may have refreshed first: its pair is in the store.
        const stored = this.store.load();
        if (stored && stored.refresh_token !== sent) {
          this.setTokens(stored);
          return true;
        }
        if (res.status === 401) this.setTokens(null);
        return false;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    return read<T>(await this.send(method, path, body, init));
  }

  /** A text body (Prometheus' format, say), with the same token handling. */
  async text(path: string): Promise<string> {
    const res = await this.send('GET', path);
    if (!res.ok) return read<string>(res);
    return res.text();
  }

  /** Sends with the access token; a 401 refreshes once and sends again. */
  private async send(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<Response> {
    const send = () => {
      const headers = new Headers(init.headers);
      if (this.tokens) headers.set('authorization', `Bearer ${this.tokens.access_token}`);
      let payload: BodyInit | undefined;
      if (body instanceof FormData) payload = body;
      else if (body !== undefined) {
        headers.set('content-type', 'application/json');
        payload = JSON.stringify(body);
      }
      return this.fetcher(`${this.base}${path}`, { ...init, method, headers, body: payload });
    };
    let res = await send();
    if (res.status === 401 && this.tokens && !path.startsWith('/api/auth/login')) {
      if (await this.refresh()) res = await send();
    }
    return res;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body ?? {});
  }
  del<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** A multipart upload with progress (0–1), which fetch cannot report. */
  upload<T>(path: string, form: FormData, progress: (done: number) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.base}${path}`);
      if (this.tokens) xhr.setRequestHeader('authorization', `Bearer ${this.tokens.access_token}`);
      xhr.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
      xhr.onerror = () => reject(new ApiError(0, 'network_error', 'network', 'the upload did not reach plaza'));
      xhr.onload = () => {
        const res = new Response(xhr.status === 204 ? null : xhr.responseText, {
          status: xhr.status,
          headers: { 'content-type': xhr.getResponseHeader('content-type') ?? '' },
        });
        read<T>(res).then(resolve, reject);
      };
      xhr.send(form);
    });
  }
}

/** A response as its body, or an ApiError in plaza's error format. */
export async function read<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.ok) return body as T;
  const e = (body ?? {}) as Record<string, unknown>;
  throw new ApiError(
    res.status,
    String(e['type'] ?? 'http_error'),
    String(e['code'] ?? `http.${res.status}`),
    String(e['error'] ?? `${res.status} ${res.statusText}`),
    (e['details'] as Record<string, unknown> | undefined) ?? null,
    (e['requestId'] as string | undefined) ?? res.headers.get('x-request-id'),
  );
}

export const api = new Client();

/** A query string from the set values of `params`. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
