/** Hash routes, so the app works the same from pgkeep://app/ and from http://127.0.0.1:port/. */
export type Route =
  { page: 'dashboard' } | { page: 'stanza'; name: string } | { page: 'jobs' } | { page: 'not-found'; path: string };

export const href = {
  dashboard: '#/',
  jobs: '#/jobs',
  stanza: (name: string) => `#/stanza/${encodeURIComponent(name)}`,
};

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/') return { page: 'dashboard' };
  if (path === '/jobs') return { page: 'jobs' };
  const stanza = /^\/stanza\/([^/]+)$/.exec(path);
  if (stanza !== null) {
    try {
      return { page: 'stanza', name: decodeURIComponent(stanza[1]!) };
    } catch {
      return { page: 'not-found', path };
    }
  }
  return { page: 'not-found', path };
}

export class Router {
  route = $state.raw<Route>({ page: 'dashboard' });
  readonly #win: Window;

  constructor(win: Window) {
    this.#win = win;
    this.route = parseHash(win.location.hash);
  }

  start(): () => void {
    const update = () => (this.route = parseHash(this.#win.location.hash));
    this.#win.addEventListener('hashchange', update);
    return () => this.#win.removeEventListener('hashchange', update);
  }
}
