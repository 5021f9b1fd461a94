/**
 * The renderer's Content Security Policy, sent as a response header by both hosts (the Electron
 * custom protocol and browser mode). Scripts and styles only from the app itself, no inline
 * script, no eval, no framing; the only connection is the API's WebSocket (browser mode).
 */
export function contentSecurityPolicy(apiOrigin?: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${apiOrigin === undefined ? "'none'" : `'self' ${apiOrigin}`}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
