"""simkyc: identity proofing of telecom subscribers (1:1 face verification, liveness, documents)."""

__version__ = "0.1.0"
