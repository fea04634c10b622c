"""What both flows read and write: the person records (`persons`, `models`: operators,
persons, lines, disputes), self-service sign-in limits (`signin`) and idempotent service calls
(`idempotent`, over `simkyc.db.idempotency`). Below the proofing flow and the registry, so the
registry consumes a finished proofing and proofing imports nothing from the registry."""
