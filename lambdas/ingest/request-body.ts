/**
 * Turning an HTTP body into JSON, with the 4xx each way it can fail. FastAPI's shape is kept: `detail` is
 * a list of `{loc, msg, type}` entries.
 */
import type { FieldError } from '../../schemas';

export interface BodyProblem {
  readonly statusCode: 400 | 413 | 415 | 422;
  readonly detail: string | readonly FieldError[];
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; problem: BodyProblem };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

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
      return { ok: false, problem: { statusCode: 400, detail: [jsonError('Body is not valid UTF-8')] } };
    }
  } else {
    text = body ?? '';
    // Cheap check first: UTF-8 never takes fewer bytes than the string has UTF-16 code units.
    if (text.length > maxBodyBytes || Buffer.byteLength(text, 'utf8') > maxBodyBytes)
      return tooLarge(maxBodyBytes);
  }

  if (text.trim() === '') {
    return {
      ok: false,
      problem: { statusCode: 422, detail: [{ loc: [], msg: 'Field required', type: 'missing' }] },
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return {
      ok: false,
      problem: { statusCode: 400, detail: [jsonError(`JSON decode error: ${(error as Error).message}`)] },
    };
  }
}

function jsonError(msg: string): FieldError {
  return { loc: [], msg, type: 'json_invalid' };
}

function tooLarge(maxBodyBytes: number): ParsedBody {
  return { ok: false, problem: { statusCode: 413, detail: `Request body exceeds ${maxBodyBytes} bytes` } };
}
