// Pieces shared by Chatlio's payloads: liberal where Chatlio is (strings may be "", null or absent), strict on structure.
import { z } from 'zod';
import { parseJson } from '../json.js';

/** A documented string field: Chatlio sends "" for missing values; null and absence are accepted too. */
export const text = z.string().nullish();

/** A JSON-in-a-string field: parsed when it holds a JSON object or array, kept as sent otherwise. */
export const jsonString = z
  .string()
  .nullish()
  .transform((value): unknown => {
    if (typeof value !== 'string' || !/^\s*[[{]/.test(value)) return value;
    try {
      return parseJson(value);
    } catch {
      return value;
    }
  });

export const visitorSchema = z.looseObject({
  email: text,
  UUID: text,
  name: text,
  identUserId: text,
  identTraits: jsonString,
  userAgent: text,
  handle: text,
  currentPage: text,
  referrerURL: text,
  // Go's RFC 3339 output: an offset and 0 to 9 fractional digits, so it stays a string (Date keeps milliseconds only).
  createdAt: text,
  IPAddress: text,
  location: text,
});

export const messageSchema = z.looseObject({
  text,
  // Slack-style "1469725409.000005", doubling as the Slack message id: a number would lose digits.
  ts: text,
  sentAt: text,
  userId: text,
  username: text,
  isVisitorMsg: z.boolean().nullish(),
});

export type Visitor = z.infer<typeof visitorSchema>;
export type Message = z.infer<typeof messageSchema>;
