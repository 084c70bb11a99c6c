import { describe, expect, it } from 'vitest';
import { bytes, clock, duration, initials, money, name, when } from './format';

describe('format', () => {
  const now = new Date('2026-12-04T15:00:00');
  it('writes times relative to now', () => {
    expect(when('2026-12-04T14:05:00', now)).toBe('14:05');
    expect(when('2026-12-01T09:30:00', now)).toBe('Tue 09:30');
    expect(when('2026-11-03T09:30:00', now)).toBe('3 Nov');
    expect(when('2025-11-03T09:30:00', now)).toBe('3 Nov 2025');
    expect(when('not a date', now)).toBe('');
  });
  it('writes durations and clocks', () => {
    expect(duration(45)).toBe('45 s');
    expect(duration(720)).toBe('12 min');
    expect(duration(3900)).toBe('1 h 05 min');
    expect(clock(247)).toBe('4:07');
    expect(clock(3723)).toBe('1:02:03');
    expect(clock(-5)).toBe('0:00');
  });
  it('writes sizes and money', () => {
    expect(bytes(812)).toBe('812 B');
    expect(bytes(4300)).toBe('4.2 KB');
    expect(bytes(3.1 * 1024 * 1024)).toBe('3.1 MB');
    expect(money(1250, 'USD')).toBe('$12.50');
    expect(money(500, 'JPY')).toBe('¥500');
  });
  it('names people', () => {
    expect(name({ display_name: 'Ana', username: 'ana' })).toBe('Ana');
    expect(name({ display_name: null, username: 'ana' })).toBe('ana');
    expect(name(null)).toBe('someone');
    expect(initials('Ana Lima')).toBe('AL');
    expect(initials('bob')).toBe('B');
  });
});
