// YAML text → a plain JS value plus a locator that maps a YAML path back to file:line:col.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Issue, SourcePosition } from '../errors.js';

export type YamlPath = (string | number)[];

/** Where a path of a document lies in its file (a converted document's paths lie in its source). */
export interface Locator {
  locate(path: YamlPath, key?: boolean): SourcePosition;
}

export class YamlSource implements Locator {
  private readonly lines = new LineCounter();
  readonly doc: Document;
  readonly syntaxIssues: Issue[] = [];

  constructor(readonly text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      this.syntaxIssues.push({
        pos: this.posOfOffset(e.pos[0]),
        path: '',
        message: `YAML: ${e.message.split('\n')[0]}`,
        hint: e.code === 'DUPLICATE_KEY' ? 'each key may appear once in a mapping' : undefined,
      });
    }
  }

  value(): unknown {
    return this.doc.toJS();
  }

  posOfOffset(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Position of the value at `path`, or of its nearest existing ancestor. With `key`, the key itself. */
  locate(path: YamlPath, key = false): SourcePosition {
    let node: unknown = this.doc.contents;
    let found: Node | undefined = this.doc.contents ?? undefined;
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
        if (!pair) break;
        found = (key && step === path[path.length - 1] ? pair.key : (pair.value ?? pair.key)) as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step];
        if (!item) break;
        found = isPair(item) ? (item.key as Node) : (item as Node);
        node = item;
      } else break;
    }
    return this.posOfOffset(found?.range?.[0] ?? 0);
  }
}

export function pathString(path: YamlPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
