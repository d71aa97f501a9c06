// Reading back a stored body: the schemas' transforms, without validating again what passed validation on arrival.
import { parseJson } from '../json.js';
import type { EventType } from './index.js';

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What parts.ts's jsonString does: a string holding a JSON object or array becomes that value. */
function decodeJsonString(value: unknown): unknown {
  if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
  try {
    return parseJson(value);
  } catch {
    return value;
  }
}

/**
 * The payload the schema would output for a body it accepted (JSON-in-string fields decoded), at a fraction of the
 * cost of running it again: exports read a million bodies. A test holds it equal to the schemas for every fixture.
 * `decoded` says whether any field changed, i.e. whether the stored text still spells the payload.
 */
export function decodeStored(type: EventType, json: unknown): { payload: JsonObject; decoded: boolean } | undefined {
  if (!isObject(json)) return undefined;
  const payload: JsonObject = { ...json };
  let decoded = false;
  if (isObject(payload.visitor) && 'identTraits' in payload.visitor) {
    const identTraits = decodeJsonString(payload.visitor.identTraits);
    if (identTraits !== payload.visitor.identTraits) {
      payload.visitor = { ...payload.visitor, identTraits };
      decoded = true;
    }
  }
  if (type === 'transcript' && typeof payload.visitorTraits === 'string') {
    const visitorTraits = decodeJsonString(payload.visitorTraits);
    if (visitorTraits !== payload.visitorTraits) {
      payload.visitorTraits = visitorTraits;
      decoded = true;
    }
  }
  return { payload, decoded };
}
