// Prometheus' text format, read for the console's live charts.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a /metrics text; comments and malformed lines are skipped. */
export function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = Number(m[4]);
    if (!Number.isNaN(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

const key = (s: Sample, by: string[]) => by.map((b) => s.labels[b] ?? '').join('|');

/** Σ value of `name` grouped by the `by` labels. */
export function sum(samples: Sample[], name: string, by: string[] = [], where: (s: Sample) => boolean = () => true) {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name || !where(s)) continue;
    const k = key(s, by);
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}

/** Per-second rates of counters between two readings `seconds` apart (a reset counts from 0). */
export function rates(before: Map<string, number>, after: Map<string, number>, seconds: number) {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const was = before.get(k) ?? 0;
    out.set(k, Math.max(0, v >= was ? v - was : v) / Math.max(seconds, 1e-9));
  }
  return out;
}

/**
 * The `q` quantile of a histogram from the increase of its cumulative
 * buckets (`le` → count) between two readings, interpolated inside the
 * bucket as Prometheus' histogram_quantile does; null with no observations.
 */
export function quantile(q: number, before: Map<number, number>, after: Map<number, number>): number | null {
  const les = [...after.keys()].sort((a, b) => a - b);
  const inc = les.map((le) => Math.max(0, (after.get(le) ?? 0) - (before.get(le) ?? 0)));
  const total = inc.at(-1) ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (inc[i]! >= rank) {
      const lo = i === 0 ? 0 : les[i - 1]!;
      const hi = les[i]!;
      if (!Number.isFinite(hi)) return lo;
      const below = i === 0 ? 0 : inc[i - 1]!;
      const inBucket = inc[i]! - below;
      return inBucket > 0 ? lo + ((hi - lo) * (rank - below)) / inBucket : hi;
    }
  }
  return les.at(-2) ?? null;
}

/** The cumulative buckets of histogram `name` for the samples matching `where`, summed. */
export function buckets(samples: Sample[], name: string, where: (s: Sample) => boolean = () => true) {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !where(s)) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}
