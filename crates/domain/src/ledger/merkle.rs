//! Merkle trees over entry hashes (RFC 6962 / 9162 shape): a checkpoint signs the root of the
//! entries it seals, so one entry can be proven part of the signed chain with a short audit path
//! instead of every entry that came after it.

use sha2::{Digest, Sha256};

/// A 32-byte hash.
pub type Hash = [u8; 32];

fn leaf(entry_hash: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry_hash);
    h.finalize().into()
}

fn node(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// Root over the entry hashes in order (`leaves` must not be empty; an empty tree has no root).
pub fn root(leaves: &[Hash]) -> Option<Hash> {
    fn go(l: &[Hash]) -> Hash {
        if l.len() == 1 {
            return leaf(&l[0]);
        }
        let k = split(l.len());
        node(&go(&l[..k]), &go(&l[k..]))
    }
    (!leaves.is_empty()).then(|| go(leaves))
}

/// Audit path of leaf `index`: the sibling hashes from the leaf up to the root.
pub fn audit_path(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    fn go(l: &[Hash], i: usize, out: &mut Vec<Hash>) {
        if l.len() == 1 {
            return;
        }
        let k = split(l.len());
        if i < k {
            go(&l[..k], i, out);
            out.push(root(&l[k..]).expect("non-empty"));
        } else {
            go(&l[k..], i - k, out);
            out.push(root(&l[..k]).expect("non-empty"));
        }
    }
    if index >= leaves.len() {
        return None;
    }
    let mut out = Vec::new();
    go(leaves, index, &mut out);
    Some(out)
}

/// Recomputes the root from one entry hash, its index among `size` leaves and its audit path
/// (RFC 9162 section 2.1.3.2); `None` when the path does not fit the tree's shape.
pub fn root_from_path(entry_hash: &Hash, index: usize, size: usize, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = leaf(entry_hash);
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| Sha256::digest((i as u64).to_be_bytes()).into()).collect()
    }

    #[test]
    fn every_path_of_every_tree_size_leads_to_the_root() {
        for n in 1..=70 {
            let l = leaves(n);
            let r = root(&l).unwrap();
            for i in 0..n {
                let p = audit_path(&l, i).unwrap();
                assert_eq!(root_from_path(&l[i], i, n, &p), Some(r), "n={n} i={i}");
            }
        }
    }

    #[test]
    fn a_changed_leaf_index_or_path_does_not_reach_the_root() {
        let l = leaves(37);
        let r = root(&l).unwrap();
        let p = audit_path(&l, 20).unwrap();
        assert_ne!(root_from_path(&l[21], 20, 37, &p), Some(r));
        assert_ne!(root_from_path(&l[20], 21, 37, &p), Some(r));
        let mut bad = p.clone();
        bad[0][0] ^= 1;
        assert_ne!(root_from_path(&l[20], 20, 37, &bad), Some(r));
        assert_eq!(root_from_path(&l[20], 20, 37, &p[..p.len() - 1]), None);
    }

    #[test]
    fn single_leaf_tree_has_an_empty_path() {
        let l = leaves(1);
        assert_eq!(audit_path(&l, 0).unwrap(), Vec::<Hash>::new());
        assert_eq!(root_from_path(&l[0], 0, 1, &[]), root(&l));
        assert_eq!(root(&[]), None);
    }
}
