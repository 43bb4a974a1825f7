/**
 * Turning an HTTP body into JSON, with the 4xx each way it can fail, as FastAPI answered: an empty body is
 * a missing one (422), text that is no JSON is 422 `json_invalid`, bytes that are no UTF-8 are 400.
 */
import type { FieldError } from '../../schemas';

export interface BodyProblem {
  readonly statusCode: 400 | 413 | 415 | 422;
  /** A string for the problems FastAPI answered with a plain `detail` (400, 413, 415). */
  readonly detail: string | readonly FieldError[];
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; problem: BodyProblem };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
/**
 * Deepest JSON nesting accepted: about what Python's json module parsed (its recursion limit is 1000), and
 * far below what would overflow the stack of anything that walks the value (JSON.stringify).
 */
const MAX_JSON_DEPTH = 1000;
/** FastAPI's answer to a body it could not even decode. */
const PARSE_ERROR = 'There was an error parsing the body';

/**
 * Absent Content-Type is read as JSON (the replaced service did the same); anything else must be
 * application/json or application/*+json, in UTF-8.
 */
function unsupportedContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.trim() === '') return undefined;
  const [mediaType = '', ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (!JSON_MEDIA_TYPE.test(mediaType)) return `Unsupported media type "${mediaType}"; send application/json`;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `Unsupported charset "${charset}"; send UTF-8`;
  }
  return undefined;
}

export function parseJsonBody(
  body: string | null,
  isBase64Encoded: boolean,
  contentType: string | undefined,
  maxBodyBytes: number,
): ParsedBody {
  const unsupported = unsupportedContentType(contentType);
  if (unsupported) return { ok: false, problem: { statusCode: 415, detail: unsupported } };

  let text: string;
  if (isBase64Encoded) {
    const bytes = Buffer.from(body ?? '', 'base64');
    if (bytes.length > maxBodyBytes) return tooLarge(maxBodyBytes);
    try {
      text = utf8.decode(bytes);
    } catch {
      return { ok: false, problem: { statusCode: 400, detail: `${PARSE_ERROR}: it is not valid UTF-8` } };
    }
  } else {
    text = body ?? '';
    // Cheap check first: UTF-8 never takes fewer bytes than the string has UTF-16 code units.
    if (text.length > maxBodyBytes || Buffer.byteLength(text, 'utf8') > maxBodyBytes)
      return tooLarge(maxBodyBytes);
  }

  if (text === '') return missing();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // Too deep is the answer for a text both too deep and invalid, as the replaced service gave it.
    if (text.length > MAX_JSON_DEPTH && nestingDepth(text) > MAX_JSON_DEPTH) return tooDeep();
    return { ok: false, problem: { statusCode: 422, detail: [jsonInvalid(text, error as Error)] } };
  }
  // V8 parses any depth; only a body longer than the limit can nest deeper than it. Walking the parsed
  // value costs a visit per value, not a look at every character of the text.
  if (text.length > MAX_JSON_DEPTH && deeperThan(value, MAX_JSON_DEPTH)) return tooDeep();
  // FastAPI read a JSON null as no body at all.
  return value === null ? missing() : { ok: true, value };
}

function tooDeep(): ParsedBody {
  return {
    ok: false,
    problem: { statusCode: 400, detail: `${PARSE_ERROR}: JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
  };
}

/** Whether arrays and objects nest more than `levels` deep in a parsed JSON value (recursion stops there). */
function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (deeperThan(item, levels - 1)) return true;
  } else {
    for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  }
  return false;
}

function missing(): ParsedBody {
  return {
    ok: false,
    problem: { statusCode: 422, detail: [{ loc: [], msg: 'Field required', type: 'missing' }] },
  };
}

/**
 * FastAPI's entry: `loc` ["body", <character position>], msg "JSON decode error", the reason in `ctx`.
 * V8 names the position of most errors; otherwise the end of the text stands in for it.
 */
function jsonInvalid(text: string, error: Error): FieldError {
  const position = /at position (\d+)/.exec(error.message)?.[1];
  return {
    loc: [position === undefined ? text.length : Number(position)],
    msg: 'JSON decode error',
    type: 'json_invalid',
    ctx: { error: error.message },
  };
}

/** The deepest nesting of arrays and objects in a JSON text (strings skipped), for a text that does not parse. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

function tooLarge(maxBodyBytes: number): ParsedBody {
  return { ok: false, problem: { statusCode: 413, detail: `Request body exceeds ${maxBodyBytes} bytes` } };
}
