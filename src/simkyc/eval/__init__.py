"""Evaluation of face matching: verification metrics (ISO/IEC 19795-1 terms) and DET plots."""
