/**
 * The compiled form of a query filter: a tree of match expressions.
 *
 * Like MongoDB's MatchExpression, every node answers two questions:
 * `matches(doc)` for a whole document (a path node walks its path and
 * succeeds if any produced value satisfies the predicate) and
 * `test(value)` for one value in isolation (MongoDB's matchesSingleElement,
 * used by `$elemMatch` on values). Negations apply to the whole path, so
 * `{a: {$ne: 1}}` rejects `{a: [1, 2]}`.
 */
import { walkPath, type CompiledPath, type LeafMode, type PathVisitor } from './path.js';

/** Receives the elemMatchKey: the array index that produced a match. */
export interface MatchDetails {
  arrayIndex?: number;
}

/** A test of one value (undefined = missing), as MongoDB's matchesSingleElement. */
export interface Predicate {
  /** How a path ending on an array is expanded for this predicate. */
  readonly leaf: LeafMode;
  test(value: unknown, details?: MatchDetails): boolean;
}

export interface MatchNode {
  matches(doc: unknown, details?: MatchDetails): boolean;
  test(value: unknown, details?: MatchDetails): boolean;
}

/** A predicate applied along a path; `path` is null under `$elemMatch` on values. */
export class PathNode implements MatchNode {
  private readonly visit: PathVisitor;

  constructor(readonly path: CompiledPath | null, readonly predicate: Predicate) {
    this.visit = (value) => predicate.test(value);
  }

  matches(doc: unknown, details?: MatchDetails): boolean {
    const { path, predicate } = this;
    if (path === null) return predicate.test(doc, details);
    if (details === undefined) return walkPath(doc, path, 0, predicate.leaf, this.visit);
    return walkPath(doc, path, 0, predicate.leaf, (value, arrayIndex) => {
      if (!predicate.test(value, details)) return false;
      // The outermost array index wins over one an inner $elemMatch recorded.
      if (arrayIndex !== undefined) details.arrayIndex = arrayIndex;
      return true;
    });
  }

  test(value: unknown, details?: MatchDetails): boolean {
    return this.predicate.test(value, details);
  }
}

export class AndNode implements MatchNode {
  constructor(readonly children: readonly MatchNode[]) {}

  matches(doc: unknown, details?: MatchDetails): boolean {
    for (const child of this.children) {
      if (!child.matches(doc, details)) {
        if (details) details.arrayIndex = undefined;
        return false;
      }
    }
    return true;
  }

  test(value: unknown, details?: MatchDetails): boolean {
    for (const child of this.children) if (!child.test(value, details)) return false;
    return true;
  }
}

/** $or; like MongoDB it does not report an array index from its branches. */
export class OrNode implements MatchNode {
  constructor(readonly children: readonly MatchNode[]) {}

  matches(doc: unknown): boolean {
    for (const child of this.children) if (child.matches(doc)) return true;
    return false;
  }

  test(value: unknown): boolean {
    for (const child of this.children) if (child.test(value)) return true;
    return false;
  }
}

export class NorNode implements MatchNode {
  constructor(readonly children: readonly MatchNode[]) {}

  matches(doc: unknown): boolean {
    for (const child of this.children) if (child.matches(doc)) return false;
    return true;
  }

  test(value: unknown): boolean {
    for (const child of this.children) if (child.test(value)) return false;
    return true;
  }
}

export class NotNode implements MatchNode {
  constructor(readonly child: MatchNode) {}

  matches(doc: unknown): boolean {
    return !this.child.matches(doc);
  }

  test(value: unknown): boolean {
    return !this.child.test(value);
  }
}

export class ConstantNode implements MatchNode {
  constructor(readonly value: boolean) {}

  matches(): boolean {
    return this.value;
  }

  test(): boolean {
    return this.value;
  }
}

/** A whole-document test such as $expr. */
export class DocumentNode implements MatchNode {
  constructor(private readonly fn: (doc: unknown) => boolean) {}

  matches(doc: unknown): boolean {
    return this.fn(doc);
  }

  test(value: unknown): boolean {
    return this.fn(value);
  }
}

/** Joins sibling conditions: none is always true, one stands alone. */
export function andOf(children: MatchNode[]): MatchNode {
  if (children.length === 0) return new ConstantNode(true);
  return children.length === 1 ? children[0] : new AndNode(children);
}
