import { describe, expect, it } from 'vitest';
import { cutSms, cutText, smsSegments } from '../src/text.js';

/** Every UTF-16 surrogate in `text` is part of a pair: nothing a UTF-8 encoder would turn into U+FFFD. */
const wellFormed = (text: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('defect 1: cutText', () => {
  it('leaves text within the limit alone', () => {
    expect(cutText('hello', 5)).toBe('hello');
  });

  it('cuts on a whole emoji, never leaving half a surrogate pair', () => {
    const text = `${'a'.repeat(8)}😀 and more`;
    // The old slice(0, max - 1) kept the emoji's first half here.
    expect(cutText(text, 10)).toBe(`${'a'.repeat(8)}…`);
    expect(cutText(text, 11)).toBe(`${'a'.repeat(8)}😀…`);
    for (let max = 1; max <= text.length; max += 1) {
      const cut = cutText(text, max);
      expect(wellFormed(cut)).toBe(true);
      expect(cut.length).toBeLessThanOrEqual(max);
    }
  });

  it('keeps emoji sequences, flags and accents whole', () => {
    const family = '👨‍👩‍👧';
    expect(cutText(`ab${family}cd`, 2 + family.length)).toBe('ab…');
    expect(cutText(`ab${family}cd`, 3 + family.length)).toBe(`ab${family}…`);
    expect(cutText('ab🇫🇷cd', 4)).toBe('ab…');
    expect(cutText('abe\u0301cd', 4)).toBe('ab…');
    expect(cutText('abe\u0301cd', 5)).toBe('abe\u0301…');
  });

  it('never exceeds the limit, even on one character longer than the limit', () => {
    const zalgo = `a${'\u0301'.repeat(50)}`;
    expect(cutText(`${zalgo}b`, 20)).toBe('…');
    expect(cutText('abcdef', 3, '')).toBe('abc');
    expect(cutText('abcdef', 0)).toBe('');
  });
});

describe('defect 1: smsSegments', () => {
  it('counts GSM-7 text in septets: 160 in one SMS, 153 per part beyond', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0 });
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161)).segments).toBe(2);
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
    expect(smsSegments('Grüße, Ærø! £5 @home').encoding).toBe('GSM-7');
  });

  it('counts the GSM-7 extension table as two septets, never split across parts', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments(`${'a'.repeat(152)}{${'a'.repeat(10)}`).segments).toBe(2);
    // 152 septets, then "{" (2) does not fit in the first part's 153: it starts the second.
    expect(smsSegments(`${'a'.repeat(152)}{${'a'.repeat(152)}`)).toEqual({ encoding: 'GSM-7', units: 306, segments: 3 });
  });

  it('counts anything outside GSM-7 as UCS-2 in UTF-16 units: 70 in one SMS, 67 per part, an emoji never split', () => {
    expect(smsSegments('a'.repeat(69) + 'ł')).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('a'.repeat(70) + 'ł').segments).toBe(2);
    expect(smsSegments('…').encoding).toBe('UCS-2');
    expect(smsSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    // 66 units, then an emoji (2) does not fit in the first part's 67.
    expect(smsSegments(`${'ł'.repeat(66)}😀${'ł'.repeat(66)}`)).toEqual({ encoding: 'UCS-2', units: 134, segments: 3 });
    expect(smsSegments(`${'ł'.repeat(65)}😀${'ł'.repeat(67)}`).segments).toBe(2);
  });
});

describe('defect 1: cutSms', () => {
  it('keeps GSM-7 text GSM-7 by ending the cut with "..."', () => {
    const cut = cutSms('word '.repeat(100), 1);
    expect(cut).toBe(`${'word '.repeat(31)}wo...`);
    expect(smsSegments(cut)).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
  });

  it('fills UCS-2 parts up to the limit and ends with "…", never splitting an emoji', () => {
    const text = `${'ł'.repeat(130)}👍🏽${'ł'.repeat(200)}`;
    const cut = cutSms(text, 2);
    expect(cut).toBe(`${'ł'.repeat(130)}…`);
    expect(smsSegments(cut).segments).toBe(2);
    for (let segments = 1; segments <= 4; segments += 1) {
      const sized = cutSms(`${'😀ł'.repeat(300)}`, segments);
      expect(wellFormed(sized)).toBe(true);
      expect(smsSegments(sized).segments).toBeLessThanOrEqual(segments);
      expect(smsSegments(sized).segments).toBe(segments);
    }
  });

  it('honours a length limit as well as the segment limit', () => {
    expect(cutSms('a'.repeat(100), 3, 40)).toBe(`${'a'.repeat(37)}...`);
    expect(cutSms('a'.repeat(40), 3, 40)).toBe('a'.repeat(40));
  });
});
