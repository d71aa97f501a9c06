// Cutting text to a size on whole characters (grapheme clusters), and counting SMS segments the way Twilio bills them.

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The longest start of `text` made of whole grapheme clusters, at most `scanUnits` UTF-16 units long, for which `fits`
 * holds ('' if none does). Boundaries up to a position never depend on what follows it, so stopping the scan early is safe.
 */
function longestFittingStart(text: string, scanUnits: number, fits: (start: string) => boolean): string {
  const ends: number[] = [];
  for (const { index, segment } of graphemes.segment(text)) {
    const end = index + segment.length;
    if (end > scanUnits) break;
    ends.push(end);
  }
  // Binary search over the boundaries: `fits` only ever grows false as the start grows (SMS segments never shrink).
  let low = 0;
  let high = ends.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(text.slice(0, ends[middle - 1]))) low = middle;
    else high = middle - 1;
  }
  return low === 0 ? '' : text.slice(0, ends[low - 1]);
}

/**
 * `text` if it is at most `max` UTF-16 units long (JavaScript's `length`), else its longest start of whole characters that
 * leaves room for `ellipsis`, followed by it. Never splits a surrogate pair, an emoji sequence or a letter from its accent.
 */
export function cutText(text: string, max: number, ellipsis = '…'): string {
  if (text.length <= max) return text;
  const room = max - ellipsis.length;
  if (room < 0) return '';
  return `${longestFittingStart(text, room, () => true).trimEnd()}${ellipsis}`;
}

// GSM 03.38: the basic table (one septet each) and the extension table (escape + one septet, so two each).
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export type SmsCount = {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 units (UCS-2) the text takes. */
  units: number;
  /** SMS segments it is sent (and billed) as: 0 for an empty text. */
  segments: number;
};

/** Per segment: one SMS holds 160 septets or 70 UCS-2 units; a long one is split into parts of 153 or 67 (the rest is the part header). */
export const SMS_CAPACITY: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** Whether every character is in the GSM-7 alphabet; one character outside it makes the whole SMS UCS-2. */
export function isGsm7(text: string): boolean {
  for (const char of text) if (!GSM_BASIC.has(char) && !GSM_EXTENSION.has(char)) return false;
  return true;
}

/**
 * How Twilio counts `text`: GSM-7 if every character is in the GSM-7 alphabet, else UCS-2 (UTF-16 units, so an emoji
 * takes two). A long message is split into parts; an escaped GSM-7 character or a surrogate pair is never split
 * across two parts, so it starts the next part when it does not fit.
 */
export function smsSegments(text: string): SmsCount {
  const encoding: SmsEncoding = isGsm7(text) ? 'GSM-7' : 'UCS-2';
  const costs: number[] = [];
  for (const char of text) costs.push(encoding === 'GSM-7' ? (GSM_EXTENSION.has(char) ? 2 : 1) : char.length);
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, part } = SMS_CAPACITY[encoding];
  if (units === 0) return { encoding, units, segments: 0 };
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, segments };
}

/**
 * `text` cut on whole characters so that it takes at most `maxSegments` SMS segments (and, if given, at most `maxLength`
 * UTF-16 units). The cut ends with "..." when what is kept is GSM-7, since "…" would turn the whole SMS into UCS-2 and
 * halve what fits; else with "…".
 */
export function cutSms(text: string, maxSegments: number, maxLength = Number.POSITIVE_INFINITY): string {
  const fits = (candidate: string) => candidate.length <= maxLength && smsSegments(candidate).segments <= maxSegments;
  if (fits(text)) return text;
  const withEllipsis = (start: string) => {
    const kept = start.trimEnd();
    return `${kept}${isGsm7(kept) ? '...' : '…'}`;
  };
  // No text longer than this many UTF-16 units fits: a unit is at least one septet.
  const scanUnits = Math.min(maxLength, maxSegments * SMS_CAPACITY['GSM-7'].single);
  return withEllipsis(longestFittingStart(text, scanUnits, (start) => fits(withEllipsis(start))));
}
