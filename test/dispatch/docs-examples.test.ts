import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/** The ```yaml blocks of a Markdown file that say which examples/ file they show. */
function shownExamples(markdown: string): Array<{ file: string; yaml: string }> {
  const blocks = [...readFileSync(join(ROOT, markdown), 'utf8').matchAll(/```yaml\n# (examples\/[\w-]+\.yaml)[^\n]*\n([\s\S]*?)```/g)];
  return blocks.map((block) => ({ file: block[1]!, yaml: block[2]! }));
}

describe('handler recipes in the docs', () => {
  for (const markdown of ['README.md', 'docs/dispatch.md']) {
    const shown = shownExamples(markdown);
    it(`${markdown} shows at least one examples/ file`, () => {
      expect(shown.length).toBeGreaterThan(0);
    });
    for (const { file, yaml } of shown) {
      it(`${markdown} shows ${file} as it is (the file the tests run)`, () => {
        expect(parse(yaml)).toEqual(parse(readFileSync(join(ROOT, file), 'utf8')));
      });
    }
  }
});
