"""MiniFASNet without PyTorch: the restricted pickle reader, the ONNX graphs, the crops, scores.

The ONNX graphs are checked against a PyTorch reference written here from upstream's
src/model_lib/MiniFASNet.py (module names as upstream's, so its state dicts load strictly).
PyTorch is a dev-only dependency; without it those tests fail under CI=true, skip elsewhere.
The reader and the crops without the weights: tests/unit/liveness/test_torch_pickle.py and
test_passive_crops.py.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from shared_files import require_module

from simkyc.config import Settings
from simkyc.convert.minifasnet import (
    INPUT_NAME,
    NUM_CLASSES,
    OUTPUT_NAME,
    MiniFASNetFormatError,
    Variant,
    build_minifasnet,
)
from simkyc.convert.torch_pickle import TorchFileError, read_legacy_state_dict
from simkyc.errors import ModelUnavailable
from simkyc.liveness.passive import (
    ENSEMBLE,
    LIVE_CLASS,
    PassiveAntiSpoof,
    crop_patch,
    patch_tensor,
)
from simkyc.types import BBox, Image

MAX_LOGIT_DIFF = 1e-3  # logits reach ~16 on real faces; the port is within ~1.2e-5 of PyTorch
FILES = {model.variant: model.filename for model in ENSEMBLE}
SCALES = {model.variant: model.scale for model in ENSEMBLE}


# --------------------------------------------------------------------------------------------
# The restricted reader on the released weights (the rest: tests/unit/liveness/test_torch_pickle.py)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", list(Variant))
def test_reads_the_released_weights(minifasnet_dir: Path, variant: Variant) -> None:
    tensors = read_legacy_state_dict((minifasnet_dir / FILES[variant]).read_bytes())
    assert len(tensors) == {Variant.V2: 334, Variant.V1SE: 370}[variant]
    assert tensors["module.conv1.conv.weight"].shape == (32, 3, 3, 3)
    assert tensors["module.prob.weight"].dtype == np.float32
    assert tensors["module.conv1.bn.num_batches_tracked"].dtype == np.int64


@pytest.mark.parametrize("cut", [1, 1000, 100_000])
def test_rejects_truncated_or_padded_weights(minifasnet_dir: Path, cut: int) -> None:
    data = (minifasnet_dir / FILES[Variant.V2]).read_bytes()
    with pytest.raises(TorchFileError):
        read_legacy_state_dict(data[:-cut])
    with pytest.raises(TorchFileError, match="unexpected bytes"):
        read_legacy_state_dict(data + b"\0" * cut)


# --------------------------------------------------------------------------------------------
# The ONNX graphs against a PyTorch reference
# --------------------------------------------------------------------------------------------

# upstream keep_dict: '1.8M' for V1/V1SE, '1.8M_' for V2.
REFERENCE_KEEP = {
    Variant.V1SE: "32 32 103 103 64 13 13 64 26 26 64 13 13 64 52 52 64 231 231 128 154 154 128 "
    "52 52 128 26 26 128 52 52 128 26 26 128 26 26 128 308 308 128 26 26 128 26 26 128 512 512",
    Variant.V2: "32 32 103 103 64 13 13 64 13 13 64 13 13 64 13 13 64 231 231 128 231 231 128 "
    "52 52 128 26 26 128 77 77 128 26 26 128 26 26 128 308 308 128 26 26 128 26 26 128 512 512",
}


def _reference(torch: Any, variant: Variant) -> Any:
    """MiniFASNet in PyTorch, eval mode, written from upstream's model_lib/MiniFASNet.py."""
    nn = torch.nn
    keep = [int(width) for width in REFERENCE_KEEP[variant].split()]

    class Block(nn.Module):  # Conv_block (with PReLU) / Linear_block (without)
        def __init__(
            self,
            cin: int,
            cout: int,
            k: int = 1,
            s: int = 1,
            p: int = 0,
            *,
            g: int = 1,
            act: bool = True,
        ) -> None:
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, k, s, p, groups=g, bias=False)
            self.bn = nn.BatchNorm2d(cout)
            self.prelu = nn.PReLU(cout) if act else None

        def forward(self, x: Any) -> Any:
            x = self.bn(self.conv(x))
            return x if self.prelu is None else self.prelu(x)

    class SE(nn.Module):  # SEModule, reduction 4
        def __init__(self, c: int) -> None:
            super().__init__()
            self.fc1, self.bn1 = nn.Conv2d(c, c // 4, 1, bias=False), nn.BatchNorm2d(c // 4)
            self.fc2, self.bn2 = nn.Conv2d(c // 4, c, 1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x: Any) -> Any:
            w = torch.relu(self.bn1(self.fc1(nn.functional.adaptive_avg_pool2d(x, 1))))
            return x * torch.sigmoid(self.bn2(self.fc2(w)))

    class Unit(nn.Module):  # Depth_Wise / Depth_Wise_SE on keep[i .. i+3]
        def __init__(self, i: int, stride: int, residual: bool, se: bool) -> None:
            super().__init__()
            self.conv = Block(keep[i], keep[i + 1])
            self.conv_dw = Block(keep[i + 1], keep[i + 2], 3, stride, 1, g=keep[i + 1])
            self.project = Block(keep[i + 2], keep[i + 3], act=False)
            self.se_module = SE(keep[i + 3]) if se else None
            self.residual = residual

        def forward(self, x: Any) -> Any:
            y = self.project(self.conv_dw(self.conv(x)))
            y = y if self.se_module is None else self.se_module(y)
            return x + y if self.residual else y

    class Residual(nn.Module):  # Residual / ResidualSE: SE on the last unit for V1SE
        def __init__(self, start: int, units: int) -> None:
            super().__init__()
            se = variant is Variant.V1SE
            self.model = nn.Sequential(
                *(Unit(start + 3 * j, 1, True, se and j == units - 1) for j in range(units))
            )

        def forward(self, x: Any) -> Any:
            return self.model(x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = Block(3, keep[0], 3, 2, 1)
            self.conv2_dw = Block(keep[0], keep[1], 3, 1, 1, g=keep[1])
            self.conv_23 = Unit(1, 2, False, False)
            self.conv_3 = Residual(4, 4)
            self.conv_34 = Unit(16, 2, False, False)
            self.conv_4 = Residual(19, 6)
            self.conv_45 = Unit(37, 2, False, False)
            self.conv_5 = Residual(40, 2)
            self.conv_6_sep = Block(keep[46], keep[47])
            self.conv_6_dw = Block(keep[47], keep[48], 5, g=keep[48], act=False)
            self.linear = nn.Linear(512, 128, bias=False)
            self.bn = nn.BatchNorm1d(128)
            self.drop = nn.Dropout(0.2)
            self.prob = nn.Linear(128, 3, bias=False)

        def forward(self, x: Any) -> Any:
            for stage in list(self.children())[:10]:
                x = stage(x)
            return self.prob(self.drop(self.bn(self.linear(x.flatten(1)))))

    return Net()


def _torch_logits(torch: Any, path: Path, variant: Variant, batch: npt.NDArray[np.float32]) -> Any:
    """Upstream's weights in the reference network, loaded as upstream loads them."""
    state = torch.load(path, map_location="cpu", weights_only=True)  # the legacy format allows it
    net = _reference(torch, variant)
    net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=True)
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(batch)).numpy()


def _onnx_logits(path: Path, variant: Variant, batch: npt.NDArray[np.float32]) -> Any:
    """The converted graph in ONNX Runtime."""
    import onnxruntime as ort

    model = build_minifasnet(read_legacy_state_dict(path.read_bytes()), variant)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]


def _assert_same_logits(
    minifasnet_dir: Path, variant: Variant, batch: npt.NDArray[np.float32]
) -> None:
    """ONNX and PyTorch agree on every logit and on every decision."""
    torch = require_module("torch", "PyTorch (dev extra, torch==2.13.0; it is the reference)")
    torch.set_num_threads(1)
    path = minifasnet_dir / FILES[variant]
    expected = _torch_logits(torch, path, variant, batch)
    actual = _onnx_logits(path, variant, batch)
    assert actual.shape == (len(batch), NUM_CLASSES)
    assert np.abs(actual - expected).max() < MAX_LOGIT_DIFF
    np.testing.assert_array_equal(actual.argmax(axis=1), expected.argmax(axis=1))


@pytest.mark.parametrize("variant", list(Variant))
def test_onnx_matches_pytorch_on_random_patches(minifasnet_dir: Path, variant: Variant) -> None:
    rng = np.random.default_rng(2020)
    noise = rng.integers(0, 256, size=(6, 3, 80, 80)).astype(np.float32)
    flat = np.full((2, 3, 80, 80), 0.0, np.float32)
    flat[1] = 255.0
    _assert_same_logits(minifasnet_dir, variant, np.concatenate([noise, flat]))


@pytest.mark.parametrize("variant", list(Variant))
def test_onnx_matches_pytorch_on_real_faces(
    minifasnet_dir: Path, silent_face_faces: dict[str, tuple[Image, BBox]], variant: Variant
) -> None:
    patches = [
        crop_patch(image, box, scale)
        for image, box in silent_face_faces.values()
        for scale in (SCALES[variant], 1.0)
    ]
    _assert_same_logits(minifasnet_dir, variant, patch_tensor(patches))


def test_weights_of_the_other_variant_are_rejected(minifasnet_dir: Path) -> None:
    v2 = read_legacy_state_dict((minifasnet_dir / FILES[Variant.V2]).read_bytes())
    v1se = read_legacy_state_dict((minifasnet_dir / FILES[Variant.V1SE]).read_bytes())
    with pytest.raises(MiniFASNetFormatError, match="shape"):
        build_minifasnet(v2, Variant.V1SE)
    with pytest.raises(MiniFASNetFormatError):
        build_minifasnet(v1se, Variant.V2)
    del v2["module.prob.weight"]
    with pytest.raises(MiniFASNetFormatError, match=r"prob\.weight"):
        build_minifasnet(v2, Variant.V2)


# --------------------------------------------------------------------------------------------
# The ensemble
# --------------------------------------------------------------------------------------------


def test_pinned_checksums_match_the_files(minifasnet_dir: Path) -> None:
    for model in ENSEMBLE:
        digest = hashlib.sha256((minifasnet_dir / model.filename).read_bytes()).hexdigest()
        assert digest == model.sha256, model.filename


def test_other_weights_are_refused(
    minifasnet_dir: Path, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "models" / minifasnet_dir.name
    folder.mkdir(parents=True)
    for model in ENSEMBLE:
        shutil.copyfile(minifasnet_dir / model.filename, folder / model.filename)
    target = folder / ENSEMBLE[1].filename
    data = bytearray(target.read_bytes())
    data[-1] ^= 1  # one flipped bit in the last weight
    target.write_bytes(bytes(data))
    changed = settings.model_copy(
        update={"models_dir": folder.parent, "cache_dir": tmp_path / "cache"}
    )
    with pytest.raises(ModelUnavailable, match="pinned SHA-256"):
        PassiveAntiSpoof.from_settings(changed)


def test_conversion_happens_once(minifasnet_dir: Path, settings: Settings, tmp_path: Path) -> None:
    local = settings.model_copy(update={"cache_dir": tmp_path})
    first = PassiveAntiSpoof.from_settings(local)
    stamps = [net.onnx_path.stat().st_mtime_ns for net in first.nets]
    second = PassiveAntiSpoof.from_settings(local)
    assert [net.onnx_path for net in second.nets] == [net.onnx_path for net in first.nets]
    assert [net.onnx_path.stat().st_mtime_ns for net in second.nets] == stamps
    assert sorted(path.suffix for path in tmp_path.iterdir()) == [".onnx", ".onnx"]


def test_silent_face_samples(
    anti_spoof: PassiveAntiSpoof, silent_face_faces: dict[str, tuple[Image, BBox]]
) -> None:
    """Upstream's sample photos: T1, T2 live; F1 a printed photo, F2 a phone-screen replay.

    Measured (YuNet boxes): T1 1.000, T2 0.521, F1 0.229, F2 0.002. T2 is fragile: its live
    score moves from 0.35 to 0.92 when YuNet's box is made 10% larger or smaller.
    """
    scores = {
        name: anti_spoof.score(image, box) for name, (image, box) in silent_face_faces.items()
    }
    for score in scores.values():
        assert score.live == pytest.approx(
            np.mean([m.probabilities[LIVE_CLASS] for m in score.models])
        )
        for model in score.models:
            assert sum(model.probabilities) == pytest.approx(1.0)
    assert min(scores["T1"].live, scores["T2"].live) > max(scores["F1"].live, scores["F2"].live)
    assert scores["T1"].live > 0.99
    assert scores["F2"].live < 0.01
    assert [scores[name].upstream_says_live for name in ("F1", "F2", "T1")] == [False, False, True]
