"""The East Asian evaluation sets: one person filed in two sets (or twice in LFW) is one
person when sets are pooled, so no "impostor" pair is a person with themself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simkyc.eval import datasets
from simkyc.eval.datasets import person_key


def test_person_keys_match_names_across_sets() -> None:
    assert person_key("Gong_Li") == person_key("cn__gong-li")
    assert person_key("Wang_Yingfan") == person_key("Yingfan_Wang")
    assert person_key("Choi_Sung-hong") == person_key("Sung_Hong_Choi")
    assert person_key("Hu_Jintao") != person_key("Hu_Jia")


def test_lfw_east_asian_merges_lfws_double_labels(east_asian_dir: Path) -> None:
    data_dir = east_asian_dir.parent
    subset = datasets.load("lfw-east-asian", data_dir)
    assert subset.population == "east-asian"
    assert len(subset.person_keys) == len(set(subset.person_keys))  # merged, one id each
    assert int(subset.identities.max()) + 1 == len(subset.person_keys)
    names = {p.parent.name for p in subset.images}
    assert names <= set((east_asian_dir / "lfw-east-asian-names.txt").read_text().split())


def test_public_figures_and_casia(east_asian_dir: Path) -> None:
    data_dir = east_asian_dir.parent
    apf = datasets.load("apf", data_dir)
    assert len(apf.images) == 725 and len(apf.person_keys) == 410
    counts = np.bincount(apf.identities)
    assert (counts >= 2).sum() == 100  # the people with genuine pairs
    casia = datasets.load("casia", data_dir)
    assert all(key.startswith("casia:") for key in casia.person_keys)  # anonymous numbers
