/**
 * What the docs check reads in the project's Markdown: relative links with their anchors, the
 * anchors a page offers (GitHub's heading ids), and the README's command blocks with the marker
 * that says whether the check runs them (`<!-- runnable -->`) or why not (`<!-- not run … -->`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export const PROJECT_ROOT = join(__dirname, '..', '..');

/** README.md, every page under docs/ and bench/ (bench/results/ included), relative to the root. */
export function markdownFiles(root = PROJECT_ROOT): string[] {
  const under = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return under(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...under('docs'), ...under('bench')].map((path) => relative(root, join(root, path)));
}

export interface FencedBlock {
  /** The info string's first word: sh, console, ts, … */
  language: string;
  lines: string[];
  /** 1-based line of the opening fence. */
  line: number;
  /** The HTML comment on the line before the fence, if any (its text, trimmed). */
  marker?: string;
}

export interface MarkdownPage {
  /** The text outside fenced code blocks, line by line (fenced lines blank, so line numbers hold). */
  prose: string[];
  blocks: FencedBlock[];
}

export function readMarkdown(text: string): MarkdownPage {
  const lines = text.split('\n');
  const prose: string[] = [];
  const blocks: FencedBlock[] = [];
  let open: FencedBlock | undefined;
  let fence = '';
  lines.forEach((line, index) => {
    const fenceMatch = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(line);
    if (!open && fenceMatch) {
      fence = fenceMatch[2]!;
      const previous = lines[index - 1]?.trim() ?? '';
      const marker = /^<!--\s*(.*?)\s*-->$/.exec(previous)?.[1];
      open = { language: fenceMatch[3]!.trim().split(/\s+/)[0] ?? '', lines: [], line: index + 1, ...(marker !== undefined ? { marker } : {}) };
      prose.push('');
      return;
    }
    if (open) {
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') {
        blocks.push(open);
        open = undefined;
      } else {
        open.lines.push(line);
      }
      prose.push('');
      return;
    }
    prose.push(line);
  });
  return { prose, blocks };
}

export interface MarkdownLink {
  target: string;
  line: number;
}

/** Links outside code: [text](target), ![alt](target), <img src>, <a href>; inline code spans are skipped. */
export function linksOf(page: MarkdownPage): MarkdownLink[] {
  const found: MarkdownLink[] = [];
  page.prose.forEach((raw, index) => {
    const line = raw.replace(/(`+)[^`]*?\1/g, '');
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) found.push({ target: match[1]!, line: index + 1 });
    for (const match of line.matchAll(/<(?:img|a)\s[^>]*?(?:src|href)="([^"]+)"/g)) found.push({ target: match[1]!, line: index + 1 });
  });
  return found;
}

/**
 * A heading's id as GitHub makes it: lower case, markup and punctuation removed (letters, digits,
 * spaces, hyphens and underscores stay), each space a hyphen.
 */
export function headingSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a page offers: its headings' ids (a repeated one gets -1, -2, …) and explicit id/name attributes. */
export function anchorsOf(page: MarkdownPage): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of page.prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = headingSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s[^>]*?(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

/** A command line of a block: a console block's `$ ` lines, every line of a shell block; `\` continuations joined. */
export function commandsOf(block: FencedBlock): string[] {
  const commands: string[] = [];
  let pending: string | undefined;
  for (const raw of block.lines) {
    let line = raw;
    if (pending === undefined) {
      if (block.language === 'console') {
        if (!line.startsWith('$ ')) continue;
        line = line.slice(2);
      }
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
    }
    const continued = /\\\s*$/.test(line);
    const text = line.replace(/\\\s*$/, '').trim();
    pending = pending === undefined ? text : `${pending} ${text}`;
    if (!continued) {
      commands.push(pending);
      pending = undefined;
    }
  }
  if (pending !== undefined) commands.push(pending);
  return commands;
}

/** The README's shell and console blocks, each with its marker. */
export function readmeCommandBlocks(root = PROJECT_ROOT): FencedBlock[] {
  return readMarkdown(readFileSync(join(root, 'README.md'), 'utf8')).blocks.filter((block) => ['sh', 'bash', 'console', 'shell'].includes(block.language));
}
