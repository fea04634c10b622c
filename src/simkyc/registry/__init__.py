"""The SIM registry: operator and staff accounts, lines, caps, disputes, SIM swaps,
self-service. It consumes finished proofings; the tables and person records both flows use are
`simkyc.records`."""
