"""Evaluation, apart from the runtime: face verification (ISO/IEC 19795-1 metrics, DET plots,
policy shares), documents (synthetic cards, real specimens, text) and liveness (attacks).
Tooling only: no runtime package imports it (tests/unit/test_import_direction.py)."""
