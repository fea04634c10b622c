"""Privacy: keyring and field encryption, pseudonyms, the audit chain, image retention."""
