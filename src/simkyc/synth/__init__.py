"""Synthetic evidence for tests and evaluation: specimen identity documents (invented
holders, the fictitious issuing state UTO), photographs of them, and liveness attacks.
Tooling only: no runtime package imports it."""
