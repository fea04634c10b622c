"""`python -m simkyc.cli`: the `simkyc` command."""

from simkyc.cli.main import main

main()
