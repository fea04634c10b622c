"""The SIM registry: operators and their staff, persons, lines, caps, disputes, SIM swaps."""
