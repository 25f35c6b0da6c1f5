import { describeError, SlipwayError } from '../core/errors.js';

// Connect and idle timeouts for every request to a registry (and its token server). Node's fetch waits 300 s
// for response headers and 300 s between body bytes, and then says only "terminated"; a stalled registry
// must instead end the step soon, with a message naming the server and what was being done.
//
// fetch does not say when the connection is up, so the phases are seen from what it does show: until the
// first byte of a request body is taken (or, without a body, until response headers arrive) the request
// has connectTimeoutMs plus idleTimeoutMs; after that, every wait for the server (taking the next body
// chunk, the response headers, the next response chunk) may last idleTimeoutMs. The idle clock runs only
// while Slipway is waiting for the server, so a slow consumer of a blob never counts as a stalled registry.

export interface Timeouts {
  /** Time to connect (TCP and TLS) and send the start of the request. */
  connectTimeoutMs: number;
  /** The longest the server may send or take nothing while a request or response is under way. */
  idleTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectTimeoutMs: 30_000, idleTimeoutMs: 60_000 };

/** Upload bodies go out in slices this big, so taking each slice shows the server is still reading. */
const UPLOAD_SLICE = 64 * 1024;

export interface StallContext {
  /** Who stalled, for the message: "registry ghcr.io", "token server auth.docker.io". */
  server: string;
  /** What was under way, as a phrase: "reading blob sha256:… of acme/api". */
  action: string;
}

/** A server that stopped sending (or reading) for longer than the timeout allows. */
export class StallError extends SlipwayError {
  override name = 'StallError';
  constructor(
    readonly context: StallContext,
    readonly phase: 'response' | 'body' | 'upload',
    readonly timeoutMs: number,
  ) {
    const seconds = `${timeoutMs / 1000} s`;
    const what =
      phase === 'response'
        ? `sent no response within ${seconds}`
        : phase === 'upload'
          ? `took no data for ${seconds}`
          : `sent no data for ${seconds}`;
    super(`${context.server} ${what} while ${context.action}.`);
  }
}

export function checkTimeouts(timeouts: Timeouts): Timeouts {
  for (const [name, value] of Object.entries(timeouts)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new SlipwayError(`The registry timeout ${name} must be a positive number of milliseconds, not ${value}.`);
    }
  }
  return timeouts;
}

/**
 * fetch with the timeouts above. The returned response's body is guarded the same way: a read that waits
 * longer than idleTimeoutMs fails with StallError, and the connection is aborted.
 */
export async function fetchWithTimeouts(
  fetchImpl: typeof fetch,
  url: string,
  init: Omit<RequestInit, 'body' | 'signal'> & { body?: Uint8Array | undefined },
  timeouts: Timeouts,
  context: StallContext,
): Promise<Response> {
  const { connectTimeoutMs, idleTimeoutMs } = timeouts;
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stalled: StallError | undefined;
  const arm = (ms: number, phase: StallError['phase']) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = new StallError(context, phase, ms);
      controller.abort(stalled);
    }, ms);
  };
  arm(connectTimeoutMs + idleTimeoutMs, 'response');

  const { body, ...rest } = init;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      ...rest,
      signal: controller.signal,
      ...(body === undefined
        ? {}
        : { body: sliced(body, (done) => arm(idleTimeoutMs, done ? 'response' : 'upload')), duplex: 'half' }),
    } as RequestInit);
  } catch (error) {
    clearTimeout(timer);
    throw stalled ?? error;
  } finally {
    if (stalled === undefined) clearTimeout(timer);
  }
  return guardBody(response, idleTimeoutMs, context, controller);
}

/**
 * The body as a stream of slices; `onTake` runs each time the transport takes a slice (and with `done` when
 * it asks past the end, the response being next), which is how upload progress becomes visible. Content-Length is set by the caller.
 */
function sliced(bytes: Uint8Array, onTake: (done: boolean) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        onTake(offset >= bytes.byteLength);
        if (offset >= bytes.byteLength) {
          controller.close();
          return;
        }
        controller.enqueue(bytes.subarray(offset, offset + UPLOAD_SLICE));
        offset += UPLOAD_SLICE;
      },
    },
    { highWaterMark: 0 },
  );
}

/** The same response, with a body whose every read must be answered within `idleMs`. */
function guardBody(response: Response, idleMs: number, context: StallContext, connection: AbortController): Response {
  const source = response.body;
  if (source === null) return response;
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const read = reader.read();
        // Once the race is lost, the read is abandoned; its rejection (the abort below) must not go unhandled.
        read.catch(() => undefined);
        const stall = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StallError(context, 'body', idleMs)), idleMs);
        });
        try {
          const chunk = await Promise.race([read, stall]);
          if (chunk.done) controller.close();
          else controller.enqueue(chunk.value);
        } catch (error) {
          if (error instanceof StallError) {
            connection.abort(error);
            throw error;
          }
          // undici says only "terminated" when a connection breaks mid-body; say who broke off, and during what.
          const lost = new SlipwayError(
            `${context.server} broke off while ${context.action}: ${describeError(error)}.`,
          );
          lost.cause = error;
          throw lost;
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    // Read only when asked: data waiting in a buffer because the consumer is busy is not a stall.
    { highWaterMark: 0 },
  );
  const guarded = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Relative Location headers resolve against the URL that answered; keep it on the copy.
  Object.defineProperty(guarded, 'url', { value: response.url });
  return guarded;
}
