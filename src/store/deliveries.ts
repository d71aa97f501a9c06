// What both backends agree on about deliveries: how much of an error and a response an attempt keeps, and the public ids.
import { cutText } from '../text.js';
export const ERROR_MAX_CHARS = 1000;
export const RESPONSE_MAX_CHARS = 4096;

export function cut(text: string | undefined | null, max: number): string | null {
  if (text === undefined || text === null) return null;
  return text.length <= max ? text : cutText(text, max);
}
