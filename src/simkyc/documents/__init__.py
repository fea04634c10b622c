"""Identity documents read as text: Chinese resident ID numbers and ICAO 9303 MRZs.

Each validator returns a frozen result listing every finding (a stable code, the field and
a sentence); nothing here raises on bad documents, only on misuse. The holder's sex,
which both formats carry, is never parsed into a field, returned or used.
"""
