/**
 * RFC 6962 Merkle hashing against the Certificate Transparency test vectors
 * (certificate-transparency merkle_tree_test.cc: eight leaves and the root of
 * each prefix), and the incremental builder against a recursive reference.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { EMPTY_ROOT, leafHash, MerkleBuilder, merkleRoot, nodeHash } from '../../server/domain/merkle.js';

const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** RFC 6962 §2.1 as written: split at the largest power of two smaller than n. */
function reference(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leafHash(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(reference(leaves.slice(0, k)), reference(leaves.slice(k)));
}

describe('Merkle tree hashing (RFC 6962)', () => {
  it('the empty tree is SHA-256 of nothing', () => {
    expect(EMPTY_ROOT.toString('hex')).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(merkleRoot([]).toString('hex')).to.equal(EMPTY_ROOT.toString('hex'));
  });

  it('matches the Certificate Transparency vectors for every prefix of the eight leaves', () => {
    const b = new MerkleBuilder();
    LEAVES.forEach((leaf, i) => {
      b.add(leaf);
      expect(b.root().toString('hex'), `root of ${i + 1} leaves`).to.equal(ROOTS[i]);
    });
  });

  it('the incremental builder agrees with the recursive definition for any leaves', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 70 }), (arrays) => {
      const leaves = arrays.map((a) => Buffer.from(a));
      expect(merkleRoot(leaves).toString('hex')).to.equal(reference(leaves).toString('hex'));
    }), { numRuns: 150 });
  });
});
