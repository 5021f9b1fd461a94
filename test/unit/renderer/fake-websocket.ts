import type { WebSocketLike } from '../../../renderer/src/lib/backend/websocket-backend.js';

/** A WebSocket stand-in driven by the test: open it, answer what was sent, drop it. */
export class FakeWebSocket implements WebSocketLike {
  static readonly made: FakeWebSocket[] = [];
  static last(): FakeWebSocket {
    return FakeWebSocket.made[FakeWebSocket.made.length - 1]!;
  }

  readyState = 0;
  readonly sent: { id: number; method: string; params: unknown }[] = [];
  closedWith: number | undefined;
  onopen: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.made.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(message: unknown): void {
    this.onmessage?.(new MessageEvent('message', { data: typeof message === 'string' ? message : JSON.stringify(message) }));
  }

  /** The server went away (or refused the upgrade): error, then close 1006, as browsers do. */
  drop(): void {
    this.readyState = 3;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006 }));
  }
}
