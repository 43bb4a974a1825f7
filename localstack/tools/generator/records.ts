import {
  createRegistry,
  type DatasetDefinition,
  type FieldSpec,
  type RegisteredDataset,
} from '../../../schemas';

/**
 * Realistic records for any dataset of the registry, built from its field definitions: known values for
 * enumerations, the example's shape for identifiers (`acc-42` → `acc-<n>`), current timestamps in the
 * Python producers' format, amounts spread around the example. A configurable share is made invalid (one
 * mutation the registry's validator is checked to reject) or sent again as an exact duplicate.
 */

export type RecordKind = 'valid' | 'invalid' | 'duplicate';

export interface GeneratedRecord {
  readonly dataset: string;
  readonly kind: RecordKind;
  /** The record id as sent (duplicates repeat an earlier id; invalid records may have none). */
  readonly id: string | undefined;
  readonly body: Record<string, unknown>;
}

export interface RecordFactoryOptions {
  /** Share of records made invalid, 0..1. */
  readonly invalidShare: number;
  /** Share of records that repeat an earlier valid record verbatim, 0..1. */
  readonly duplicateShare: number;
  /** Seeds the pseudo-random choices, for reproducible data (ids stay unique through runId). */
  readonly seed?: number;
  /** Part of every id, so that separate runs never reuse ids. Default: random. */
  readonly runId?: string;
  readonly now?: () => Date;
}

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD'] as const;
const RECENT = 1_000;

/** mulberry32: a small seeded generator, so a run (records, faults) can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Python's `datetime.isoformat()` of a naive UTC datetime: microseconds, no offset. */
export function pythonIsoFormat(date: Date, micros: number): string {
  return `${date.toISOString().slice(0, 19)}.${String(date.getUTCMilliseconds() * 1000 + micros).padStart(6, '0')}`;
}

export class RecordFactory {
  private readonly random: () => number;
  private readonly runId: string;
  private readonly now: () => Date;
  private readonly recent = new Map<string, Record<string, unknown>[]>();
  private sequence = 0;

  constructor(
    private readonly options: RecordFactoryOptions,
    private readonly registry = createRegistry(),
  ) {
    this.random = prng(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.runId = options.runId ?? Math.floor(Math.random() * 36 ** 6).toString(36);
    this.now = options.now ?? (() => new Date());
  }

  get datasets(): readonly RegisteredDataset[] {
    return this.registry.datasets;
  }

  next(datasetName: string): GeneratedRecord {
    const dataset = this.registry.byName(datasetName);
    if (!dataset) throw new Error(`Unknown dataset ${datasetName}`);
    const { definition } = dataset;
    const roll = this.random();
    const recent = this.recent.get(datasetName) ?? [];
    if (roll < this.options.duplicateShare && recent.length > 0) {
      const body = recent[Math.floor(this.random() * recent.length)] as Record<string, unknown>;
      return { dataset: datasetName, kind: 'duplicate', id: String(body[definition.idField]), body };
    }
    const body = this.valid(definition);
    if (roll < this.options.duplicateShare + this.options.invalidShare) {
      const invalid = this.invalidate(dataset, body);
      const id = invalid[definition.idField];
      return {
        dataset: datasetName,
        kind: 'invalid',
        id: typeof id === 'string' ? id : undefined,
        body: invalid,
      };
    }
    recent.push(body);
    if (recent.length > RECENT) recent.shift();
    this.recent.set(datasetName, recent);
    return { dataset: datasetName, kind: 'valid', id: String(body[definition.idField]), body };
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)] as T;
  }

  private valid(definition: DatasetDefinition): Record<string, unknown> {
    this.sequence += 1;
    const record: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(definition.fields)) {
      record[name] =
        name === definition.idField
          ? `${idPrefix(spec)}-${this.runId}-${String(this.sequence).padStart(8, '0')}`
          : !spec.required && this.random() < 0.2
            ? null
            : this.value(spec);
    }
    return record;
  }

  private value(spec: FieldSpec): unknown {
    switch (spec.kind) {
      case 'string': {
        if (spec.knownValues?.length) return this.pick(spec.knownValues);
        const example = String(spec.example);
        const numbered = /^(.*?)(\d+)$/.exec(example);
        // acc-42 → acc-<1..999>: the example's prefix with a number of about its width, so values repeat.
        return numbered
          ? `${numbered[1]}${1 + Math.floor(this.random() * 10 ** (numbered[2] as string).length * 10)}`
          : example;
      }
      case 'currency':
        return this.pick(CURRENCIES);
      case 'timestamp':
        return pythonIsoFormat(this.now(), Math.floor(this.random() * 1000));
      case 'date_or_timestamp': {
        const daysAgo = Math.floor(this.random() * 30);
        return new Date(this.now().getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
      }
      case 'money':
      case 'number': {
        // Log-normal around the example: mostly near it, now and then ten times larger.
        const center = Math.max(1, Math.abs(Number(spec.example) || 100));
        const gaussian = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
        const value = Math.round(center * Math.exp(gaussian) * 100) / 100;
        return spec.minimum !== undefined ? Math.max(spec.minimum, value) : value;
      }
      case 'json':
        return {};
    }
  }

  /** One mutation the validator rejects; tries them in random order until one does. */
  private invalidate(dataset: RegisteredDataset, valid: Record<string, unknown>): Record<string, unknown> {
    const fields = Object.entries(dataset.definition.fields);
    const mutations: Array<(r: Record<string, unknown>) => void> = [
      ...fields
        .filter(([, f]) => f.required)
        .map(
          ([name]) =>
            (r: Record<string, unknown>) =>
              delete r[name],
        ),
      ...fields
        .filter(([, f]) => f.kind === 'money' || f.kind === 'number')
        .map(([name]) => (r: Record<string, unknown>) => {
          r[name] = 'twelve';
        }),
      ...fields
        .filter(([, f]) => f.minimum !== undefined)
        .map(([name, f]) => (r: Record<string, unknown>) => {
          r[name] = (f.minimum as number) - 1;
        }),
      ...fields
        .filter(([, f]) => f.kind === 'timestamp' || f.kind === 'date_or_timestamp')
        .map(([name]) => (r: Record<string, unknown>) => {
          r[name] = 'yesterday';
        }),
    ];
    const order = mutations.map((m) => ({ m, k: this.random() })).sort((a, b) => a.k - b.k);
    for (const { m } of order) {
      const record = { ...valid };
      m(record);
      if (!dataset.validate(record).ok) return record;
    }
    throw new Error(`No mutation makes a ${dataset.definition.name} record invalid`);
  }
}

function idPrefix(spec: FieldSpec): string {
  return /^([A-Za-z]+)/.exec(String(spec.example))?.[1] ?? 'id';
}
