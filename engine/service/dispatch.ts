import { toPgkeepError } from '../error/pgkeep-error.js';
import { methods, requestSchema, type MethodName, type Params, type Result, type Value, type WireMessage } from './api.js';

/** What a transport needs from the service: answer a validated request. */
export interface ServiceHandler {
  handle<M extends MethodName>(method: M, params: Params<M>): Promise<Value<M>>;
}

/**
 * Validates one request from a UI and runs it. Both transports (Electron IPC, WebSocket) call
 * this, so a payload is checked the same way whatever carried it: an unknown method or invalid
 * parameters are refused before anything runs, and every failure becomes an error result.
 */
export async function dispatch(service: ServiceHandler, raw: unknown): Promise<WireMessage> {
  const request = requestSchema.safeParse(raw);
  if (!request.success) {
    return {
      kind: 'response',
      id: -1,
      result: invalid('the request is not {id, method, params}', request.error.issues[0]?.message),
    };
  }
  const { id, method } = request.data;
  if (!Object.hasOwn(methods, method)) {
    return { kind: 'response', id, result: invalid(`unknown method '${method}'`, `methods: ${Object.keys(methods).join(', ')}`) };
  }
  const name = method as MethodName;
  const params = methods[name].params.safeParse(request.data.params ?? {});
  if (!params.success) {
    const issue = params.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at '${issue.path.join('.')}'`;
    return {
      kind: 'response',
      id,
      result: invalid(`invalid parameters for '${method}'${where}: ${issue?.message ?? 'not valid'}`),
    };
  }
  return { kind: 'response', id, result: await run(() => service.handle(name, params.data as Params<typeof name>)) };
}

async function run<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (caught) {
    const error = toPgkeepError(caught);
    return {
      ok: false,
      code: error.code,
      name: error.errorName,
      message: error.message,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
    };
  }
}

function invalid(message: string, hint?: string): Result<never> {
  return { ok: false, code: 96, name: 'ParamInvalid', message, ...(hint === undefined ? {} : { hint }) };
}
