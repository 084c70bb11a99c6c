import { describe, expect, it } from 'vitest';
import { LiveSocket, type Transport } from './socket';

class FakeTransport implements Transport {
  sent: Record<string, unknown>[] = [];
  closedWith: number | null = null;
  onopen: Transport['onopen'] = null;
  onmessage: Transport['onmessage'] = null;
  onclose: Transport['onclose'] = null;
  onerror: Transport['onerror'] = null;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.closedWith = code;
  }
  /** plaza sends a frame. */
  frame(type: string, data: Record<string, unknown> = {}) {
    this.onmessage?.({ data: JSON.stringify({ type, data }) });
  }
  /** The connection drops. */
  drop(code = 1006) {
    this.onclose?.({ code, reason: '' });
  }
}

function setup(token = 't1') {
  const sockets: FakeTransport[] = [];
  const timers: (() => void)[] = [];
  let refreshes = 0;
  let current = token;
  const live = new LiveSocket({
    url: () => `ws://plaza/ws?token=${current}`,
    open: (url) => {
      const t = new FakeTransport(url);
      sockets.push(t);
      return t;
    },
    refresh: async () => {
      refreshes++;
      current = `t${refreshes + 1}`;
      return true;
    },
    backoff: () => 0,
    setTimer: (f) => {
      timers.push(f);
      return timers.length;
    },
    clearTimer: () => {},
  });
  const last = () => sockets[sockets.length - 1]!;
  /** Runs the reconnect timer (pings are timers too; they only send). */
  const tick = () => timers.splice(0).forEach((f) => f());
  return { live, sockets, last, tick, refreshes: () => refreshes };
}

const msg = (chat: string, seq: number) => ({ id: `m${seq}`, chat_id: chat, seq, content: `#${seq}` });

describe('LiveSocket', () => {
  it('resumes every chat from the last seq it passed on, with since', () => {
    const { live, last, tick } = setup();
    const got: number[] = [];
    live.on('new_message', (m) => got.push(Number(m['seq'])));
    live.track('c1', 4);
    live.start();
    last().frame('ready', { server_time: '2026-12-04T10:00:00Z' });
    expect(last().sent[0]).toEqual({
      type: 'resume',
      data: { rooms: [{ room_id: 'c1', last_seq: 4 }] },
    });
    last().frame('new_message', msg('c1', 5));
    last().frame('new_message', msg('c2', 1));
    last().frame('pong', { server_time: '2026-12-04T10:00:30Z' });
    last().drop();
    tick();
    last().frame('ready', { server_time: '2026-12-04T10:01:00Z' });
    expect(last().sent[0]).toEqual({
      type: 'resume',
      data: {
        rooms: [
          { room_id: 'c1', last_seq: 5, since: '2026-12-04T10:00:30Z' },
          { room_id: 'c2', last_seq: 1, since: '2026-12-04T10:00:30Z' },
        ],
      },
    });
    expect(got).toEqual([5, 1]);
  });

  it('passes on each message once when a resume overlaps the live feed', () => {
    const { live, last } = setup();
    const got: number[] = [];
    live.on('new_message', (m) => got.push(Number(m['seq'])));
    live.start();
    last().frame('ready', {});
    for (const seq of [1, 2, 2, 3, 1, 4]) last().frame('new_message', msg('c', seq));
    expect(got).toEqual([1, 2, 3, 4]);
    expect(live.lastSeq('c')).toBe(4);
  });

  it('sends queued frames after the resume, and repeats idempotent ones after a drop', async () => {
    const { live, last, tick } = setup();
    live.start();
    const answer = live.request('send_message', { room_id: 'c', content: 'hi', client_id: 'k1' }, true);
    expect(last().sent).toEqual([]);
    live.track('c', 2);
    last().frame('ready', {});
    expect(last().sent.map((f) => f['type'])).toEqual(['resume', 'send_message']);
    // Dropped before the ack: the same frame (same client_id) goes again.
    last().drop();
    tick();
    last().frame('ready', {});
    const again = last().sent.find((f) => f['type'] === 'send_message')!;
    expect((again['data'] as Record<string, unknown>)['client_id']).toBe('k1');
    last().frame('ack', { id: again['id'], for: 'send_message', created: false });
    await expect(answer).resolves.toMatchObject({ created: false });
  });

  it('rejects a frame that cannot be repeated when the connection drops', async () => {
    const { live, last } = setup();
    live.start();
    last().frame('ready', {});
    const read = live.request('mark_read', { room_id: 'c', seq: 3 });
    last().drop();
    await expect(read).rejects.toMatchObject({ type: 'disconnected' });
  });

  it('turns an error frame into a rejection with its status', async () => {
    const { live, last } = setup();
    live.start();
    last().frame('ready', {});
    const p = live.request('send_message', { room_id: 'x', content: 'hi' });
    const id = last().sent[0]!['id'];
    last().frame('error', { id, for: 'send_message', status: 404, type: 'not_found', error: 'no such chat' });
    await expect(p).rejects.toMatchObject({ status: 404, message: 'no such chat' });
  });

  it('refreshes the token on 4001 and reconnects with the new one', async () => {
    const { live, sockets, last, refreshes } = setup();
    live.start();
    last().frame('ready', {});
    last().drop(4001);
    await Promise.resolve();
    await Promise.resolve();
    expect(refreshes()).toBe(1);
    expect(sockets.length).toBe(2);
    expect(last().url).toContain('token=t2');
  });

  it('stops for good when the session ended (1008)', () => {
    const { live, sockets, last, tick } = setup();
    let ended = false;
    live.on('ended', () => (ended = true));
    live.start();
    last().frame('ready', {});
    last().drop(1008);
    tick();
    expect(ended).toBe(true);
    expect(live.status).toBe('ended');
    expect(sockets.length).toBe(1);
  });

  it('tells the app it reconnected, so lists are read again', () => {
    const { live, last, tick } = setup();
    let reconnected = 0;
    live.on('reconnected', () => reconnected++);
    live.start();
    last().frame('ready', { server_time: 'a' });
    expect(reconnected).toBe(0);
    last().drop();
    tick();
    last().frame('ready', { server_time: 'b' });
    expect(reconnected).toBe(1);
  });
});
