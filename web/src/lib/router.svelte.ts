// The app's paths with the History API: links are plain <a href>, and a
// click on one that stays in the app is handled here without a reload.
// plaza serves index.html for these paths (crates/plaza-app/src/web).

export const route = $state({ path: location.pathname, search: location.search });

function update() {
  route.path = location.pathname;
  route.search = location.search;
}

export function go(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  update();
  window.scrollTo(0, 0);
}

/** The parameters of `pattern` ("/chats/:id") in `path`, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.replace(/\/+$/, '').split('/');
  if (want.length !== got.length && !(pattern === '/' && path === '/')) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i] ?? '';
    if (w.startsWith(':')) {
      if (!g) return null;
      params[w.slice(1)] = decodeURIComponent(g);
    } else if (w !== g) return null;
  }
  return params;
}

export function param(key: string): string | null {
  return new URLSearchParams(route.search).get(key);
}

addEventListener('popstate', update);
addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api')) return;
  e.preventDefault();
  go(url.pathname + url.search);
});
