"""A jurisdiction's SIM-registration rules, as data and pure functions: its profile with the
rule's source (`profiles`), the line caps (`line_caps`), the document policy: accepted
documents, expiry, minimum age (`document_policy`). Nothing here reads a database or a model."""
