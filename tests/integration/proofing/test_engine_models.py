"""The engine pool on the real models: members share the ONNX sessions (memory), never the
detectors or trackers (state)."""

from __future__ import annotations

import pytest

from simkyc.config import Settings
from simkyc.proofing.engines import EnginePool

pytestmark = pytest.mark.data  # YuNet, the recognizer and MiniFASNet in SIMKYC_MODELS_DIR


def test_members_share_the_onnx_models_but_not_the_detectors(settings: Settings) -> None:
    lfw = settings.model_copy(update={"population": "lfw", "engine_pool": 2})
    pool = EnginePool.from_settings(lfw)
    with pool.checkout() as one, pool.checkout() as two:
        assert one.pipeline.encoder.detector is not two.pipeline.encoder.detector
        assert one.liveness.analyzer.tracker is not two.liveness.analyzer.tracker
        assert one.pipeline.encoder.embedder is two.pipeline.encoder.embedder
        assert one.liveness.analyzer.passive is two.liveness.analyzer.passive
        assert one.liveness.encoder is one.pipeline.encoder
