/**
 * The docs check, offline part: every relative link in README.md, docs/ and bench/ (files, images,
 * folders) names something that exists, and every anchor names a heading (or an id) of its page;
 * every command block of the README says whether the docs check runs it. Unit test: the files as
 * they are, nothing started. test/cli.stack.e2e.test.ts runs the blocks marked runnable against a
 * live `npm start`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { anchorsOf, commandsOf, headingSlug, linksOf, markdownFiles, PROJECT_ROOT, readMarkdown, readmeCommandBlocks, type MarkdownPage } from './helpers/markdown';

const pages = new Map<string, MarkdownPage>();
function page(file: string): MarkdownPage {
  let read = pages.get(file);
  if (!read) {
    read = readMarkdown(readFileSync(join(PROJECT_ROOT, file), 'utf8'));
    pages.set(file, read);
  }
  return read;
}

describe('the docs check: links and anchors', () => {
  test('GitHub heading ids, as links to them are written', () => {
    assert.equal(headingSlug('The Temporal server\'s work per notification (dev server (in memory), its own metrics)'), 'the-temporal-servers-work-per-notification-dev-server-in-memory-its-own-metrics');
    assert.equal(headingSlug('Staging: not the worker, the dev server\'s one SQLite connection'), 'staging-not-the-worker-the-dev-servers-one-sqlite-connection');
    assert.equal(headingSlug('`temporal workflow show` prints no payloads'), 'temporal-workflow-show-prints-no-payloads');
    assert.equal(headingSlug('Scale: migration, cost, and the release curve'), 'scale-migration-cost-and-the-release-curve');
  });

  test('every relative link in README.md, docs/ and bench/ names a file that exists, and an anchor its page has', () => {
    const files = markdownFiles();
    assert.ok(files.includes('README.md') && files.some((file) => file.startsWith('docs/')) && files.some((file) => file.startsWith('bench/')), files.join(', '));
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const link of linksOf(page(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // http:, https:, mailto:
        checked += 1;
        const [path = '', anchor] = link.target.split('#', 2);
        const target = path === '' ? file : relative(PROJECT_ROOT, join(PROJECT_ROOT, dirname(file), decodeURIComponent(path)));
        const where = `${file}:${link.line}: ${link.target}`;
        if (!existsSync(join(PROJECT_ROOT, target))) {
          broken.push(`${where} (no ${target})`);
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (!target.endsWith('.md') || statSync(join(PROJECT_ROOT, target)).isDirectory()) {
          broken.push(`${where} (an anchor into ${target}, which is not a Markdown page)`);
          continue;
        }
        if (!anchorsOf(page(target)).has(decodeURIComponent(anchor))) broken.push(`${where} (${target} has no heading #${anchor})`);
      }
    }
    assert.ok(checked > 50, `only ${checked} relative links found: the parser is missing some`);
    assert.deepEqual(broken, []);
  });
});

describe('the docs check: the README\'s commands', () => {
  test('every shell block of the README is marked: runnable (the live check runs it) or why not', () => {
    const blocks = readmeCommandBlocks();
    const unmarked = blocks.filter((block) => block.marker === undefined || !/^(runnable|not run\b)/.test(block.marker)).map((block) => `README.md:${block.line}`);
    assert.deepEqual(unmarked, [], 'mark each with <!-- runnable --> or <!-- not run by the docs check: why -->');
    const runnable = blocks.filter((block) => block.marker === 'runnable').flatMap(commandsOf);
    assert.ok(runnable.filter((command) => command.startsWith('npm run cli -- ')).length >= 8, runnable.join('\n'));
    // Commands run as printed: from the project's root, with nothing exported and no path into .data.
    for (const command of runnable) {
      assert.match(command, /^npm run (cli|temporal) -- /, command);
      assert.doesNotMatch(command, /\.data\/|\$[A-Z_]+|<[a-z]/, command);
    }
  });

  test('a console block\'s commands are its "$ " lines; a shell block\'s, every line; continuations join', () => {
    assert.deepEqual(commandsOf({ language: 'console', line: 1, lines: ['$ npm run cli -- a \\', '  --b', 'output', '', '$ npm run cli -- c'] }), ['npm run cli -- a --b', 'npm run cli -- c']);
    assert.deepEqual(commandsOf({ language: 'sh', line: 1, lines: ['# comment', 'npm start   # trailing', ''] }), ['npm start   # trailing']);
  });
});
