"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proofs, with no storage.

Leaf hash SHA-256(0x00 || data), node hash SHA-256(0x01 || left || right) (section 2.1.1).
A tree of any size is made of aligned perfect subtrees: `Span(level, index)` covers leaves
[index * 2**level, (index + 1) * 2**level). Proof builders name the spans whose hashes they
need (a store answers them in one query); verifiers follow sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True, order=True)
class Span:
    """A perfect subtree: 2**level leaves starting at leaf index * 2**level."""

    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def spans(start: int, end: int) -> list[Span]:
    """The perfect subtrees that make up leaves [start, end), left to right, largest first."""
    out: list[Span] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        out.append(Span(level, start >> level))
        start += 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of a range from its spans' hashes (right to left, as RFC 9162's MTH)."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtree ranges whose roots form PATH(index, D[0:size]), leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    return out[::-1]


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The subtree ranges whose roots form PROOF(old, D[0:new]) (RFC 9162 2.1.4.1)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to {new}")
    out: list[Range] = []
    start, end, complete, m = 0, new, True, old
    while True:
        if m == end - start:
            if not complete:
                out.append((start, end))
            return out[::-1]
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, complete = start + k, m - k, False


def needed_spans(ranges: Sequence[Range]) -> set[Span]:
    """Every stored span that the roots of these ranges are computed from."""
    return {span for start, end in ranges for span in spans(start, end)}


def range_root(start: int, end: int, lookup: Mapping[Span, bytes]) -> bytes:
    """The root of leaves [start, end) from stored span hashes."""
    return fold([lookup[span] for span in spans(start, end)])


def build_proof(ranges: Sequence[Range], lookup: Callable[[set[Span]], Mapping[Span, bytes]]
                ) -> list[bytes]:
    """The proof's hashes, fetching the spans needed in one call to `lookup`."""
    found = lookup(needed_spans(ranges))
    return [range_root(start, end, found) for start, end in ranges]


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (reference implementation: tests, verify and small trees)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def verify_inclusion(*, leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does `proof` place leaf hash `leaf` at `index` under `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(*, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the tree of `new_root` an extension of the one of `old_root`?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size or not proof:
        return old_size == 0 and not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first hash
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The compact range of a growing tree: its perfect subtrees' hashes, left to right.

    `append` returns every span it completes (the leaf's own included) so a store can keep
    them; the root at any size is the right fold of the frontier."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        self._spans = spans(0, size)
        if len(hashes) != len(self._spans):
            raise ValueError(f"a tree of size {size} has {len(self._spans)} frontier spans")
        self._hashes = list(hashes)
        self.size = size

    def append(self, leaf: bytes) -> list[tuple[Span, bytes]]:
        made = [(Span(0, self.size), leaf)]
        self._spans.append(Span(0, self.size))
        self._hashes.append(leaf)
        while len(self._spans) > 1 and self._spans[-1].level == self._spans[-2].level:
            right, left = self._spans.pop(), self._spans.pop()
            hr, hl = self._hashes.pop(), self._hashes.pop()
            span, value = Span(left.level + 1, left.index >> 1), node_hash(hl, hr)
            assert right.index == left.index + 1
            self._spans.append(span)
            self._hashes.append(value)
            made.append((span, value))
        self.size += 1
        return made

    def root(self) -> bytes:
        return fold(self._hashes)
