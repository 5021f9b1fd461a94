import {
  eventSchema,
  type Api,
  type MethodName,
  type Params,
  type Result,
  type ServiceEvent,
  type Value,
} from '../../../engine/service/api.js';

type Handler<M extends MethodName> = (params: Params<M>) => Result<Value<M>> | Promise<Result<Value<M>>>;
export type Handlers = { [M in MethodName]?: Handler<M> };

/**
 * A fake of our own `Api` interface: answers from per-method handlers, records every call, and
 * pushes events (validated with the service's schema, so tests cannot send what the engine never would).
 */
export class FakeApi implements Api {
  readonly calls: { method: MethodName; params: unknown }[] = [];
  readonly #listeners = new Set<(event: ServiceEvent) => void>();

  constructor(public handlers: Handlers = {}) {}

  async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<Value<M>>> {
    this.calls.push({ method, params });
    const handler = this.handlers[method] as Handler<M> | undefined;
    if (handler === undefined) return { ok: false, code: 101, name: 'Service', message: `the fake has no '${method}'` };
    return handler(params);
  }

  subscribe(listener: (event: ServiceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  emit(event: ServiceEvent): void {
    const valid = eventSchema.parse(event);
    for (const listener of this.#listeners) listener(valid);
  }

  callsOf(method: MethodName): unknown[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.params);
  }
}

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
