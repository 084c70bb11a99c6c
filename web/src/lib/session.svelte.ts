// Who is signed in, and the one socket of the signed-in user.

import { api } from './api';
import { LiveSocket } from './socket';
import type { MfaRequired, TokenResponse, User } from './types';

export const session = $state<{ user: User | null; loading: boolean; live: string }>({
  user: null,
  loading: true,
  live: 'offline',
});

/** A WebSocket URL on this origin carrying the access token; null when signed out. */
export function socketUrl(path: string): string | null {
  const token = api.accessToken;
  if (!token) return null;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}?token=${encodeURIComponent(token)}`;
}

export const live = new LiveSocket({
  url: () => socketUrl('/ws'),
  open: (url) => new WebSocket(url) as unknown as import('./socket').Transport,
  refresh: () => api.refresh(),
});

live.on('status', (d) => (session.live = String(d['status'])));
live.on('ended', () => void signedOut());

/** Reads the account behind the stored tokens, if any. */
export async function restore(): Promise<void> {
  session.loading = true;
  try {
    if (api.signedIn) {
      session.user = await api.get<User>('/api/auth/me');
      live.start();
    }
  } catch {
    api.setTokens(null);
    session.user = null;
  } finally {
    session.loading = false;
  }
}

/** Keeps the tokens and opens the socket. */
export function signedIn(t: TokenResponse): void {
  api.setTokens(t);
  session.user = t.user;
  live.start();
}

export async function signIn(login: string, password: string): Promise<MfaRequired | null> {
  const body = login.includes('@') ? { email: login, password } : { username: login, password };
  const res = await api.post<TokenResponse | MfaRequired>('/api/auth/login', body);
  if ('mfa_required' in res) return res;
  signedIn(res);
  return null;
}

export async function signOut(): Promise<void> {
  try {
    await api.post('/api/auth/logout');
  } catch {
    // Signed out here either way.
  }
  await signedOut();
}

async function signedOut(): Promise<void> {
  live.stop();
  api.setTokens(null);
  session.user = null;
}

// Another tab signed in or out: follow it.
addEventListener('storage', (e) => {
  if (e.key !== 'plaza.session') return;
  if (!e.newValue) void signedOut();
  else if (!session.user) void restore();
});
