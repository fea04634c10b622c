"""Proofing sessions: consent, checks and decision recorded with a re-verifiable evidence record."""
