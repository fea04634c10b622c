"""RFC 9162 hashing and proofs against a reference tree built from the definition, for every
pair of sizes up to 40; proofs built from stored spans equal the reference ones."""

from __future__ import annotations

import hashlib

import pytest

from simkyc.privacy.merkle import (
    EMPTY_ROOT,
    Frontier,
    Span,
    build_proof,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(f"entry {i}".encode()) for i in range(40)]


def store(size: int) -> dict[Span, bytes]:
    """Every span a Frontier makes while growing to `size`."""
    frontier, kept = Frontier(), {}
    for leaf in LEAVES[:size]:
        kept.update(frontier.append(leaf))
    return kept


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH, literally."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, leaves[:k]), root_of(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), root_of(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 2.1.4.1 SUBPROOF, literally."""
    n = len(leaves)
    if m == n:
        return [] if b else [root_of(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, leaves[:k], b), root_of(leaves[k:])]
    return [*ref_subproof(m - k, leaves[k:], False), root_of(leaves[:k])]


def test_hashes_follow_rfc_9162() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    # RFC 6962's test vector: the empty-leaf tree of one leaf.
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")


def test_frontier_roots_match_the_definition() -> None:
    frontier = Frontier()
    for n, leaf in enumerate(LEAVES, start=1):
        frontier.append(leaf)
        assert frontier.root() == root_of(LEAVES[:n])


@pytest.mark.parametrize("n", range(1, 41))
def test_inclusion_proofs(n: int) -> None:
    kept = store(n)
    root = root_of(LEAVES[:n])
    for m in range(n):
        proof = build_proof(inclusion_ranges(m, n), lambda w: {s: kept[s] for s in w})
        assert proof == ref_path(m, LEAVES[:n])
        assert verify_inclusion(leaf=LEAVES[m], index=m, size=n, proof=proof, root=root)
        other = leaf_hash(b"forged")
        assert not verify_inclusion(leaf=other, index=m, size=n, proof=proof, root=root)
        if n > 1:
            assert not verify_inclusion(leaf=LEAVES[m], index=(m + 1) % n, size=n,
                                        proof=proof, root=root)


@pytest.mark.parametrize("n", range(1, 41))
def test_consistency_proofs(n: int) -> None:
    kept = store(n)
    new_root = root_of(LEAVES[:n])
    for m in range(1, n + 1):
        proof = build_proof(consistency_ranges(m, n), lambda w: {s: kept[s] for s in w})
        assert proof == ref_subproof(m, LEAVES[:n], True)
        old_root = root_of(LEAVES[:m])
        assert verify_consistency(old_size=m, new_size=n, old_root=old_root, new_root=new_root,
                                  proof=proof)
        forked = root_of([leaf_hash(b"other"), *LEAVES[1:m]])
        assert not verify_consistency(old_size=m, new_size=n, old_root=forked,
                                      new_root=new_root, proof=proof)
