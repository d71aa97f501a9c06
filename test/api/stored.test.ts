import { describe, expect, it } from 'vitest';
import { manifest, readFixture } from '../helpers/app.js';
import { payloadSchemas, type EventType } from '../../src/chatlio/index.js';
import { decodeStored } from '../../src/chatlio/stored.js';
import { parseJson } from '../../src/json.js';

describe('decodeStored', () => {
  for (const entry of manifest().filter((m) => m.expect === 200)) {
    it(`gives what the ${entry.type} schema outputs for ${entry.file}`, () => {
      const type = entry.type as EventType;
      const json = parseJson(readFixture(entry.file).toString('utf8'));
      expect(decodeStored(type, json)?.payload).toEqual(payloadSchemas[type].parse(json));
    });
  }
});
