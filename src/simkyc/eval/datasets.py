"""Evaluation data sets found under Settings.data_dir: images, identities, protocol pairs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simkyc.errors import SimkycError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


class DatasetMissing(SimkycError):
    """The evaluation data is not where the settings say."""

    code = "DATASET_MISSING"
    status = 503


@dataclass(frozen=True)
class ProtocolPairs:
    """A fixed list of pairs (LFW View 2): image indices, same-person flags, fold ids."""

    first: NDArray[np.intp]
    second: NDArray[np.intp]
    same: NDArray[np.bool_]
    fold: NDArray[np.intp]


@dataclass(frozen=True)
class FaceDataset:
    """Images of known identities; every two images make a genuine or an impostor pair."""

    name: str
    population: str
    images: tuple[Path, ...]
    identities: NDArray[np.intp]
    protocol: ProtocolPairs | None = None
    # One key per identity that names the person across sets (so pooling sets never makes
    # an "impostor" pair of one person filed in two of them, e.g. Gong Li in LFW and APF).
    person_keys: tuple[str, ...] = ()


def person_key(name: str) -> str:
    """A name's key across sets: its words, lower-cased and sorted ("Wang_Yingfan" ==
    "yingfan-wang"; "cn__gong-li" == "Gong_Li"); the list prefix of APF folders dropped."""
    name = re.sub(r"^(cn|jp|kr)__", "", name)
    return " ".join(sorted(w for w in re.split(r"[-_ ]+", name.lower()) if w))


def folder_dataset(
    name: str,
    population: str,
    root: Path,
    limit: int | None,
    *,
    only: frozenset[str] | None = None,
    keyed: bool = True,
) -> FaceDataset:
    """One sub-folder per person (CASIA-FaceV5, K-pop crops, public figures); `only`: the
    folder names to take; `keyed`: folder names are people's names (not anonymous numbers)."""
    if not root.is_dir():
        raise DatasetMissing(f"{root} is missing; set SIMKYC_DATA_DIR to the evaluation data.")
    people = sorted(
        p for p in root.iterdir() if p.is_dir() and (only is None or p.name in only)
    )[:limit]
    images: list[Path] = []
    identities: list[int] = []
    for index, person in enumerate(people):
        files = sorted(f for f in person.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DatasetMissing(f"{person} holds no images.")
        images += files
        identities += [index] * len(files)
    keys = tuple(person_key(p.name) if keyed else f"{name}:{p.name}" for p in people)
    return FaceDataset(name, population, tuple(images), np.array(identities, np.intp),
                       person_keys=keys)


def lfw(data_dir: Path, limit: int | None) -> FaceDataset:
    """LFW deep-funneled: all 7,701 protocol images, and View 2's pairs.txt (10 folds)."""
    root = data_dir / "lfw"
    base = folder_dataset("lfw", "lfw", root / "images_deepfunneled", limit)
    index = {path: i for i, path in enumerate(base.images)}
    rows = (root / "pairs.txt").read_text().split("\n")
    folds, per_fold = (int(v) for v in rows[0].split())
    first, second, same, fold = [], [], [], []
    for number, row in enumerate(rows[1 : 1 + folds * 2 * per_fold]):
        a, b, is_same = _lfw_pair(root / "images_deepfunneled", row.split("\t"))
        if a in index and b in index:
            first.append(index[a])
            second.append(index[b])
            same.append(is_same)
            fold.append(number // (2 * per_fold))
    protocol = ProtocolPairs(
        np.array(first, np.intp),
        np.array(second, np.intp),
        np.array(same, np.bool_),
        np.array(fold, np.intp),
    )
    return FaceDataset("lfw", "lfw", base.images, base.identities, protocol, base.person_keys)


def lfw_east_asian(data_dir: Path, limit: int | None) -> FaceDataset:
    """LFW's East Asian identities (east-asian/lfw-east-asian-names.txt) among the protocol
    images; LFW's three double labels of one person are merged by `person_key`."""
    names = (data_dir / "east-asian" / "lfw-east-asian-names.txt").read_text().split()
    base = folder_dataset("lfw-east-asian", "east-asian", data_dir / "lfw" / "images_deepfunneled",
                          limit, only=frozenset(names))
    merged = {key: i for i, key in enumerate(dict.fromkeys(base.person_keys))}
    remap = np.array([merged[key] for key in base.person_keys], np.intp)
    return FaceDataset(base.name, base.population, base.images, remap[base.identities],
                       person_keys=tuple(merged))


def _lfw_pair(images: Path, cells: list[str]) -> tuple[Path, Path, bool]:
    """A pairs.txt row: `name n1 n2` (same person) or `name1 n1 name2 n2` (different)."""

    def path(name: str, number: str) -> Path:
        return images / name / f"{name}_{int(number):04d}.jpg"

    if len(cells) == 3:
        return path(cells[0], cells[1]), path(cells[0], cells[2]), True
    return path(cells[0], cells[1]), path(cells[2], cells[3]), False


def load(name: str, data_dir: Path, limit: int | None = None) -> FaceDataset:
    """A data set by its short name."""
    east_asian = data_dir / "east-asian"
    if name == "lfw":
        return lfw(data_dir, limit)
    if name == "lfw-east-asian":
        return lfw_east_asian(data_dir, limit)
    if name == "casia":
        return folder_dataset("casia", "east-asian", east_asian / "casia-facev5-40", limit,
                              keyed=False)
    if name == "kpop":
        return folder_dataset("kpop", "east-asian", east_asian / "kpop-idols-15" / "images", limit)
    if name == "apf":
        return folder_dataset("apf", "east-asian", east_asian / "asian-public-figures", limit)
    raise DatasetMissing(f"Unknown data set {name!r}; known: {', '.join(NAMES)}.")


# Every data set `simkyc eval faces` knows; the East Asian ones pool into population east-asian.
NAMES = ("lfw", "casia", "kpop", "apf", "lfw-east-asian")
