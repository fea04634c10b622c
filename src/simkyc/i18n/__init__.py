"""Languages: one JSON catalog per locale (catalogs/<tag>.json), shared by the server (API
messages, CLI) and the pages (fetched from /web/i18n/<tag>); English is the source catalog.

Why one JSON catalog rather than gettext .po/.mo: the pages and the server show the same
sentences (decision reasons, error messages, liveness prompts); one file per language that
the browser loads as-is and Python reads with `json` needs no compile step and no second
copy for JavaScript. A third language is one more file: the locales are the files present.
`python -m simkyc.cli.extract` lists the message ids the code uses (the completeness test
runs the same extraction)."""

from simkyc.i18n.catalog import DEFAULT_LOCALE, Catalogs, catalogs, negotiate

__all__ = ["DEFAULT_LOCALE", "Catalogs", "catalogs", "negotiate"]
