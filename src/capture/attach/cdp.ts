/**
 * A Chrome DevTools Protocol client over the target's inspector WebSocket (`ws`), and
 * the same interface for each worker thread, reached through the main thread's
 * `NodeWorker` domain (messages wrapped in `NodeWorker.sendMessageToWorker`, answers
 * in `NodeWorker.receivedMessageFromWorker`).
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';

/** A command's answer or an event's params: protocol JSON, read by each caller for what it knows. */
// biome-ignore lint/suspicious/noExplicitAny: protocol JSON, checked where it is read
export type CdpParams = any;

/** One thread's end of the protocol: commands and their answers, events. */
export interface CdpChannel {
  post<T = Record<string, unknown>>(method: string, params?: object): Promise<T>;
  /** Calls `listener` with each event's params; returns the function that stops it. */
  on(event: string, listener: (params: CdpParams) => void): () => void;
  /** Settles when the channel is gone (socket closed, worker detached). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
}

export class CdpError extends Error {
  override name = 'CdpError';
}

interface Message {
  id?: number;
  method?: string;
  params?: CdpParams;
  result?: CdpParams;
  error?: { code: number; message: string };
}

/** Commands and their answers over one message pipe; shared by the socket and workers. */
class Dispatcher {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { method: string; resolve: (v: CdpParams) => void; reject: (e: Error) => void }
  >();
  private readonly events = new EventEmitter();
  private closedWith: Error | undefined;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(private readonly send: (text: string) => void) {
    this.events.setMaxListeners(0);
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  post<T>(method: string, params?: object): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.send(JSON.stringify({ id, method, params: params ?? {} }));
    });
  }

  on(event: string, listener: (params: CdpParams) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  receive(message: Message): void {
    if (message.id !== undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      if (message.error) p.reject(new CdpError(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result ?? {});
    } else if (message.method) {
      this.events.emit(message.method, message.params ?? {});
    }
  }

  close(reason: string): void {
    if (this.closedWith) return;
    this.closedWith = new CdpError(reason);
    for (const p of this.pending.values()) {
      p.reject(new CdpError(`${p.method}: ${reason}`));
    }
    this.pending.clear();
    this.resolveClosed();
  }
}

/** The connection to the main thread of a target, over its inspector's WebSocket. */
export class CdpConnection implements CdpChannel {
  private readonly dispatcher: Dispatcher;
  private readonly workers = new Map<string, Dispatcher>();

  private constructor(private readonly socket: WebSocket) {
    this.dispatcher = new Dispatcher((text) => socket.send(text));
    socket.on('message', (data) => this.receive(String(data)));
    socket.on('close', () => {
      this.dispatcher.close('the inspector connection closed');
      for (const w of this.workers.values()) w.close('the inspector connection closed');
    });
    socket.on('error', () => {
      // 'close' follows and says it.
    });
  }

  /** Connects to a `ws://127.0.0.1:<port>/<id>` URL. */
  static connect(url: string): Promise<CdpConnection> {
    return new Promise((resolve, reject) => {
      // Profiles and snapshot chunks can be large; the peer is the target's own inspector.
      const socket = new WebSocket(url, { maxPayload: 2 ** 31, perMessageDeflate: false });
      socket.once('open', () => resolve(new CdpConnection(socket)));
      socket.once('error', (e) => reject(new CdpError(`cannot connect to ${url}: ${e.message}`)));
    });
  }

  get closed(): Promise<void> {
    return this.dispatcher.closed;
  }

  get isClosed(): boolean {
    return this.dispatcher.isClosed;
  }

  post<T = Record<string, unknown>>(method: string, params?: object): Promise<T> {
    return this.dispatcher.post<T>(method, params);
  }

  on(event: string, listener: (params: CdpParams) => void): () => void {
    return this.dispatcher.on(event, listener);
  }

  /** Stops reading from the socket until `resume` (back-pressure for snapshot chunks). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** The channel of a worker that `NodeWorker.attachedToWorker` announced. */
  worker(sessionId: string): CdpChannel {
    let d = this.workers.get(sessionId);
    if (!d) {
      const created = new Dispatcher((message) => {
        this.post('NodeWorker.sendMessageToWorker', { sessionId, message }).catch((e) =>
          created.close(`the worker is gone (${(e as Error).message})`),
        );
      });
      d = created;
      this.workers.set(sessionId, d);
    }
    const dispatcher = d;
    return {
      post: (method, params) => dispatcher.post(method, params),
      on: (event, listener) => dispatcher.on(event, listener),
      closed: dispatcher.closed,
      get isClosed() {
        return dispatcher.isClosed;
      },
    };
  }

  /** Closes the socket (the target's inspector stays open). */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    this.socket.close();
    return this.closed;
  }

  private receive(text: string): void {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.method === 'NodeWorker.receivedMessageFromWorker') {
      const { sessionId, message: inner } = message.params as {
        sessionId: string;
        message: string;
      };
      try {
        this.workers.get(sessionId)?.receive(JSON.parse(inner) as Message);
      } catch {
        // A worker message that is not JSON: nothing to do with it.
      }
      return;
    }
    if (message.method === 'NodeWorker.detachedFromWorker') {
      const { sessionId } = message.params as { sessionId: string };
      this.workers.get(sessionId)?.close('the worker thread ended');
    }
    this.dispatcher.receive(message);
  }
}
