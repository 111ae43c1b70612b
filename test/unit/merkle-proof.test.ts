/**
 * Inclusion proofs (server/domain/merkle-proof.ts) against the tree
 * merkle.ts builds: every leaf of every tree size up to 70 proves its way to
 * the root, and a proof bent in any way — another leaf, index or size, a
 * sibling changed, dropped or added — does not.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { auditPath, auditRanges, rootFromPath } from '../../server/domain/merkle-proof.js';
import { leafHash, merkleRoot } from '../../server/domain/merkle.js';

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => `leaf ${i}`);

describe('Merkle inclusion proofs (RFC 9162 §2.1.3)', () => {
  it('every leaf of every tree up to 70 leaves proves its way to the root', () => {
    for (let n = 1; n <= 70; n++) {
      const data = leavesOf(n);
      const root = merkleRoot(data);
      for (let m = 0; m < n; m++) {
        const path = auditPath(m, n, data.map((d) => leafHash(d)));
        expect(path.length, `n=${n} m=${m}`).to.equal(auditRanges(m, n).length);
        expect(rootFromPath(leafHash(data[m]!), m, n, path)?.equals(root), `n=${n} m=${m}`).to.equal(true);
      }
    }
  });

  it('the path is as long as the leaf is deep: a perfect tree of 64 needs 6 hashes, a lone leaf none', () => {
    expect(auditRanges(5, 64)).to.have.length(6);
    expect(auditRanges(0, 1)).to.deep.equal([]);
    expect(auditRanges(6, 7)).to.deep.equal([[4, 6], [0, 4]]);
  });

  it('a bent proof proves nothing', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 300 }), fc.nat(), fc.nat(), (n, mi, which) => {
      const m = mi % n;
      const data = leavesOf(n);
      const root = merkleRoot(data);
      const path = auditPath(m, n, data.map((d) => leafHash(d)));
      const proves = (leaf: string, idx: number, size: number, p: Buffer[]) => rootFromPath(leafHash(leaf), idx, size, p)?.equals(root) === true;
      expect(proves(data[m]!, m, n, path)).to.equal(true);
      expect(proves(data[(m + 1) % n]!, m, n, path), 'another leaf').to.equal(false);
      expect(proves(data[m]!, (m + 1) % n, n, path), 'another index').to.equal(false);
      // Against the root of a larger tree (a path alone does not fix the size: the signed checkpoint pairs root and size).
      expect(rootFromPath(leafHash(data[m]!), m, n + 1, path)?.equals(merkleRoot(leavesOf(n + 1))) === true, 'a larger tree').to.equal(false);
      if (path.length) {
        const k = which % path.length;
        const changed = path.map((h, i) => (i === k ? leafHash('forged') : h));
        expect(proves(data[m]!, m, n, changed), 'a sibling changed').to.equal(false);
        expect(proves(data[m]!, m, n, path.slice(0, -1)), 'a sibling dropped').to.equal(false);
      }
      expect(proves(data[m]!, m, n, [...path, leafHash('extra')]), 'a sibling added').to.equal(false);
    }), { numRuns: 300 });
  });

  it('refuses a leaf outside the tree', () => {
    expect(() => auditRanges(3, 3)).to.throw(RangeError);
    expect(rootFromPath(leafHash('x'), 3, 3, [])).to.equal(null);
    expect(rootFromPath(leafHash('x'), -1, 3, [])).to.equal(null);
    expect(() => auditPath(0, 3, [leafHash('a'), leafHash('b')])).to.throw(RangeError, /expected 3 leaves, got 2/);
  });
});
