import { type JsonSchema, KIND_KEYWORD, QUALITY_KEYWORD } from './json-schema';
import type { FieldKind } from './types';

/**
 * Backward compatibility between two versions of a dataset's JSON schema (./json-schema.ts): every record
 * of the previous version must still be a valid record of the current one, and the lake must be able to
 * read files of both versions into the current tables. Pure: it compares two schemas, so it works on the
 * committed history (schemas/history/) as well as on synthetic pairs.
 */

/**
 * Kind changes the lake absorbs: the stored type stays the same and the new kind accepts more
 * (a date alone as well as a date-time; any text where an ISO 4217 code was required).
 */
export const KIND_WIDENINGS: Readonly<Partial<Record<FieldKind, readonly FieldKind[]>>> = {
  timestamp: ['date_or_timestamp'],
  currency: ['string'],
};

const RENAME_ADVICE =
  'keep the field (make it optional if producers stop sending it) and deprecate it in its description; ' +
  'a rename is a remove plus an add: add a new optional field and deprecate the old one';

interface Field {
  readonly kind: FieldKind;
  readonly required: boolean;
  readonly knownValues: readonly string[] | undefined;
  readonly minimum: number | undefined;
  readonly minLength: number | undefined;
}

function fieldsOf(schema: JsonSchema): Map<string, Field> {
  const required = new Set(schema.required as readonly string[]);
  const properties = schema.properties as Record<string, JsonSchema>;
  return new Map(
    Object.entries(properties).map(([name, p]) => {
      const quality = (p[QUALITY_KEYWORD] ?? {}) as Record<string, unknown>;
      return [
        name,
        {
          kind: p[KIND_KEYWORD] as FieldKind,
          required: required.has(name),
          knownValues: quality.known_values as string[] | undefined,
          minimum: quality.minimum as number | undefined,
          minLength: quality.min_length as number | undefined,
        },
      ];
    }),
  );
}

/** A lower bound may stay, drop or go down; adding or raising one quarantines rows that were valid. */
function boundNarrowed(before: number | undefined, after: number | undefined): boolean {
  return after !== undefined && (before === undefined || after > before);
}

function fieldProblems(name: string, before: Field, after: Field): string[] {
  const problems: string[] = [];
  if (after.kind !== before.kind && !KIND_WIDENINGS[before.kind]?.includes(after.kind)) {
    problems.push(
      `field "${name}" changed kind from ${before.kind} to ${after.kind}, which the lake cannot widen. ` +
        `Instead: add a new optional field of kind ${after.kind} and deprecate "${name}".`,
    );
  }
  if (after.required && !before.required) {
    problems.push(
      `field "${name}" became required; records of the earlier version may lack it. ` +
        'Instead: keep it optional (older rows read as null) and default it downstream.',
    );
  }
  const dropped = (before.knownValues ?? []).filter((v) => !(after.knownValues ?? []).includes(v));
  if (after.knownValues && dropped.length > 0) {
    problems.push(
      `field "${name}" no longer knows ${dropped.map((v) => JSON.stringify(v)).join(', ')}; rows with them would be ` +
        'quarantined. Instead: keep the values and mark them deprecated in the description.',
    );
  }
  for (const [rule, b, a] of [
    ['minimum', before.minimum, after.minimum],
    ['minLength', before.minLength, after.minLength],
  ] as const) {
    if (boundNarrowed(b, a)) {
      problems.push(
        `field "${name}" narrowed its ${rule} from ${b ?? 'none'} to ${a}; rows valid before would be quarantined. ` +
          'Instead: keep the bound and add a new optional field that carries the stricter rule.',
      );
    }
  }
  return problems;
}

/**
 * Why `current` is not backward compatible with `previous` (empty when it is). Allowed: a new optional
 * field, a new known value, a kind widening (KIND_WIDENINGS), a required field becoming optional, a
 * looser quality bound. Every message ends with what to do instead.
 */
export function incompatibilities(previous: JsonSchema, current: JsonSchema): string[] {
  const problems: string[] = [];
  for (const key of ['x-id-field', 'x-event-time-field']) {
    if (previous[key] !== current[key]) {
      problems.push(
        `${key} changed from "${previous[key]}" to "${current[key]}"; keys and partitions of stored rows would not ` +
          'match. Instead: create a new dataset.',
      );
    }
  }
  const before = fieldsOf(previous);
  const after = fieldsOf(current);
  for (const [name, old] of before) {
    const now = after.get(name);
    if (now === undefined)
      problems.push(`field "${name}" was removed (or renamed). Instead: ${RENAME_ADVICE}.`);
    else problems.push(...fieldProblems(name, old, now));
  }
  for (const [name, field] of after) {
    if (!before.has(name) && field.required) {
      problems.push(
        `new field "${name}" is required; records of the earlier version lack it. ` +
          'Instead: add it as optional (required: false); older rows read as null.',
      );
    }
  }
  return problems;
}
