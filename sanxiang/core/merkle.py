"""Merkle tree hashing as specified by RFC 6962 (Certificate Transparency),
section 2.1, and its proof verification algorithms as restated in RFC 9162.

    MTH({})      = SHA-256()                                   (empty tree)
    MTH({d0})    = SHA-256(0x00 || d0)                         (leaf)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) (node)
                   where k is the largest power of two smaller than n.

Everything here is iterative: no recursion, so a tree of millions of
leaves costs O(n) hashes and O(log n) memory for a root (``Frontier``).

The audit chain uses the entries' 32-byte ``entry_hash`` values as leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    if n < 2:
        raise ValueError("a tree of fewer than two leaves has no split")
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The roots of the perfect subtrees that make up a tree of ``size``
    leaves (one per set bit of size, largest and leftmost first).

    Appending a leaf is amortised O(1) hashes; ``root()`` folds the
    subtrees right to left, which is exactly RFC 6962's MTH because the
    left part of every split is the largest perfect subtree.
    """

    __slots__ = ("size", "_nodes")

    def __init__(self, size: int = 0, nodes: Sequence[tuple[int, bytes]] = ()):
        self.size = size
        self._nodes: list[tuple[int, bytes]] = list(nodes)  # (height, root)

    def copy(self) -> Frontier:
        return Frontier(self.size, self._nodes)

    def append_hash(self, hashed_leaf: bytes) -> None:
        """Append a leaf given as its leaf hash."""
        height, node = 0, hashed_leaf
        nodes = self._nodes
        while nodes and nodes[-1][0] == height:
            node = node_hash(nodes.pop()[1], node)
            height += 1
        nodes.append((height, node))
        self.size += 1

    def append(self, leaf: bytes) -> None:
        self.append_hash(leaf_hash(leaf))

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append_hash(leaf_hash(leaf))

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        nodes = self._nodes
        acc = nodes[-1][1]
        for i in range(len(nodes) - 2, -1, -1):
            acc = node_hash(nodes[i][1], acc)
        return acc


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH of the leaves (any iterable; streamed, O(log n) memory)."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


def _range_root(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of the already leaf-hashed range hashes[start:end]."""
    if start >= end:
        return EMPTY_ROOT
    frontier = Frontier()
    for i in range(start, end):
        frontier.append_hash(hashes[i])
    return frontier.root()


def inclusion_proofs(leaf_hashes: Sequence[bytes], indexes: Iterable[int]) -> dict[int, list[bytes]]:
    """Audit paths PATH(i, D[n]) of RFC 6962 2.1.1 (leaf-side first) for
    every index in ``indexes``, over leaves given as their leaf hashes. One
    walk: every node is hashed at most once, so any number of proofs costs
    O(n) hashes (an e-case file proves hundreds of entries of a chain of
    millions)."""
    n = len(leaf_hashes)
    wanted = sorted(set(indexes))
    for index in wanted:
        if not 0 <= index < n:
            raise IndexError(f"leaf index {index} outside a tree of {n} leaves")
    proofs: dict[int, list[bytes]] = {i: [] for i in wanted}
    # An explicit stack instead of recursion: (lo, hi, targets, parent slot).
    # Each frame's root is computed after its two halves; subtrees without a
    # target are folded by a Frontier.
    if not wanted:
        return proofs
    stack: list[tuple[int, int, list[int], bool]] = [(0, n, wanted, False)]
    roots: list[bytes] = []
    while stack:
        lo, hi, targets, combine = stack.pop()
        if combine:  # both halves are on ``roots``: right on top
            right, left = roots.pop(), roots.pop()
            mid = lo + split_point(hi - lo)
            for t in targets:
                proofs[t].append(right if t < mid else left)
            roots.append(node_hash(left, right))
            continue
        if not targets:
            roots.append(_range_root(leaf_hashes, lo, hi))
            continue
        if hi - lo == 1:
            roots.append(leaf_hashes[lo])
            continue
        mid = lo + split_point(hi - lo)
        stack.append((lo, hi, targets, True))
        stack.append((mid, hi, [t for t in targets if t >= mid], False))
        stack.append((lo, mid, [t for t in targets if t < mid], False))
    return proofs


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path PATH(index, D[n]) of RFC 6962 2.1.1, leaf-side first,
    over raw leaves."""
    return inclusion_proofs([leaf_hash(leaf) for leaf in leaves], [index])[index]


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """Check an inclusion proof (RFC 9162 2.1.3.2). ``leaf`` is the raw leaf
    (here: the 32-byte entry hash), not its leaf hash."""
    if not 0 <= index < tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 2.1.2: shows the tree of the first
    ``old_size`` leaves is a prefix of the tree of all of them."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} outside 0..{n}")
    if old_size == 0 or old_size == n:
        return []
    hashes = [leaf_hash(leaf) for leaf in leaves]
    items: list[bytes] = []  # collected root-side first
    lo, hi, m, complete = 0, n, old_size, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            items.append(_range_root(hashes, lo + k, hi))
            hi = lo + k
        else:
            items.append(_range_root(hashes, lo, lo + k))
            lo += k
            m -= k
            complete = False
    if not complete:
        items.append(_range_root(hashes, lo, hi))
    items.reverse()
    return items


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check a consistency proof (RFC 9162 2.1.4.2)."""
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
