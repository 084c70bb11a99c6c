// The app's one WebSocket to /ws (docs/realtime.md): it reconnects with
// backoff, refreshes an expired token (close 4001), and on every
// reconnect resumes each chat from the last `seq` it passed on — with
// `since`, so edits, deletions and reactions made meanwhile are replayed —
// so a network drop loses nothing and shows nothing twice. Frames sent
// while it is down wait and go out once it is back; a `send_message`
// carries a `client_id`, so sending it again after a drop cannot make two.
//
// The transport and the timers are passed in, so the logic is tested
// without a browser (socket.test.ts).

import type { Frame } from './types';

/** What the socket needs of a WebSocket. */
export interface Transport {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface SocketOptions {
  /** The URL to open, token included; null when signed out. */
  url: () => string | null;
  open: (url: string) => Transport;
  /** A fresh access token (close 4001); false when the session ended. */
  refresh: () => Promise<boolean>;
  /** Milliseconds before reconnect attempt `n` (0-based). */
  backoff?: (n: number) => number;
  setTimer?: (f: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  /** How often to ping, so `since` stays recent and dead links show. */
  pingEvery?: number;
}

export type Status = 'connecting' | 'open' | 'offline' | 'ended';
type Handler = (data: Record<string, unknown>) => void;

interface Waiting {
  frame: Frame;
  resolve: (data: Record<string, unknown>) => void;
  reject: (e: SocketError) => void;
  /** Sent again after a reconnect until answered (only idempotent frames). */
  again: boolean;
}

/** An `error` frame's answer, in plaza's error format. */
export class SocketError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Full jitter on an exponential curve: 0.25 s, 0.5 s … up to 10 s. */
export function defaultBackoff(n: number): number {
  const cap = Math.min(10_000, 250 * 2 ** n);
  return Math.round(cap / 2 + (Math.random() * cap) / 2);
}

export class LiveSocket {
  status: Status = 'offline';
  private ws: Transport | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private pinger: unknown = null;
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  private queued: Frame[] = [];
  private handlers = new Map<string, Set<Handler>>();
  /** The highest `seq` passed on per chat: where a resume starts. */
  private seen = new Map<string, number>();
  /** `server_time` of the last `ready` or `pong`. */
  private since: string | null = null;
  private stopped = true;
  private readonly opts: Required<SocketOptions>;

  constructor(opts: SocketOptions) {
    this.opts = {
      backoff: defaultBackoff,
      setTimer: (f, ms) => setTimeout(f, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      pingEvery: 25_000,
      ...opts,
    };
  }

  /** Listens to one frame type (or `status` for status changes); returns the unsubscribe. */
  on(type: string, h: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    set.add(h);
    return () => set.delete(h);
  }

  start(): void {
    this.stopped = false;
    if (!this.ws) this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
    for (const w of this.waiting.values()) w.reject(new SocketError(0, 'closed', 'the socket was closed'));
    this.waiting.clear();
    this.queued = [];
    this.setStatus('offline');
  }

  /** Tells the socket a chat was read up to `seq` over REST, so a resume starts there. */
  track(chatId: string, seq: number): void {
    if ((this.seen.get(chatId) ?? -1) < seq) this.seen.set(chatId, seq);
  }

  /** The last `seq` passed on for a chat. */
  lastSeq(chatId: string): number | undefined {
    return this.seen.get(chatId);
  }

  /** A frame with no answer (`typing`); dropped while offline. */
  fire(type: string, data: Record<string, unknown>): void {
    if (this.status === 'open') this.ws?.send(JSON.stringify({ type, data }));
  }

  /**
   * A frame whose `ack` resolves the promise (an `error` rejects it). With
   * `again`, it is sent again after a reconnect until answered — only for
   * frames that are safe to repeat (a `send_message` with a `client_id`).
   */
  request(type: string, data: Record<string, unknown>, again = false): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const frame: Frame = { type, data, id };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { frame, resolve, reject, again });
      if (this.status === 'open') this.ws?.send(JSON.stringify(frame));
      else this.queued.push(frame);
    });
  }

  private setStatus(s: Status): void {
    if (this.status === s) return;
    this.status = s;
    this.emit('status', { status: s });
  }

  private emit(type: string, data: Record<string, unknown>): void {
    for (const h of this.handlers.get(type) ?? []) h(data);
  }

  private clearTimers(): void {
    if (this.timer !== null) this.opts.clearTimer(this.timer);
    if (this.pinger !== null) this.opts.clearTimer(this.pinger);
    this.timer = this.pinger = null;
  }

  private connect(): void {
    const url = this.opts.url();
    if (!url || this.stopped) return;
    this.setStatus('connecting');
    const ws = this.opts.open(url);
    this.ws = ws;
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let frame: Frame;
      try {
        frame = JSON.parse(ev.data) as Frame;
      } catch {
        return;
      }
      this.receive(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.closed(ev.code);
    };
    ws.onerror = () => {};
  }

  private receive(frame: Frame): void {
    const data = frame.data ?? {};
    switch (frame.type) {
      case 'ready':
        this.ready(data);
        break;
      case 'pong':
        if (typeof data['server_time'] === 'string') this.since = data['server_time'];
        break;
      case 'ack':
      case 'error':
        this.answered(frame.type, data);
        break;
      case 'new_message': {
        const chat = String(data['chat_id']);
        const seq = Number(data['seq']);
        // A message already passed on (a resume overlapping the live feed).
        if ((this.seen.get(chat) ?? -1) >= seq) return;
        this.seen.set(chat, seq);
        break;
      }
    }
    this.emit(frame.type, data);
  }

  private ready(data: Record<string, unknown>): void {
    const resumed = this.attempt > 0 || this.since !== null;
    this.attempt = 0;
    const rooms = [...this.seen].map(([room_id, last_seq]) => ({
      room_id,
      last_seq,
      ...(this.since ? { since: this.since } : {}),
    }));
    if (typeof data['server_time'] === 'string') this.since = data['server_time'];
    const ws = this.ws;
    if (!ws) return;
    // The resume goes first, so the backlog arrives before anything live.
    if (rooms.length > 0) ws.send(JSON.stringify({ type: 'resume', data: { rooms } }));
    const again = [...this.waiting.entries()]
      .filter(([, w]) => w.again && !this.queued.includes(w.frame))
      .map(([, w]) => w.frame);
    for (const f of [...again, ...this.queued]) ws.send(JSON.stringify(f));
    this.queued = [];
    this.setStatus('open');
    if (resumed) this.emit('reconnected', {});
    this.schedulePing();
  }

  private schedulePing(): void {
    if (this.pinger !== null) this.opts.clearTimer(this.pinger);
    this.pinger = this.opts.setTimer(() => {
      this.pinger = null;
      if (this.status === 'open') {
        this.ws?.send(JSON.stringify({ type: 'ping', data: {} }));
        this.schedulePing();
      }
    }, this.opts.pingEvery);
  }

  private answered(type: string, data: Record<string, unknown>): void {
    const id = data['id'];
    if (typeof id !== 'number') return;
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    if (type === 'ack') w.resolve(data);
    else w.reject(new SocketError(Number(data['status'] ?? 0), String(data['type'] ?? 'error'), String(data['error'] ?? 'refused')));
  }

  private closed(code: number): void {
    this.clearTimers();
    // Frames that cannot be repeated safely fail now; the rest wait.
    for (const [id, w] of this.waiting) {
      if (!w.again) {
        this.waiting.delete(id);
        this.queued = this.queued.filter((f) => f !== w.frame);
        w.reject(new SocketError(0, 'disconnected', 'the connection dropped before plaza answered'));
      }
    }
    if (this.stopped) return this.setStatus('offline');
    if (code === 1008) {
      // The session ended (sign-out elsewhere, a ban): no point retrying.
      this.setStatus('ended');
      this.emit('ended', {});
      return;
    }
    this.setStatus('offline');
    if (code === 4001) {
      void this.opts.refresh().then((ok) => {
        if (ok) this.connect();
        else {
          this.setStatus('ended');
          this.emit('ended', {});
        }
      });
      return;
    }
    const wait = this.opts.backoff(this.attempt++);
    this.timer = this.opts.setTimer(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }
}
