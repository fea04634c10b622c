"""The `simkyc` command line: `main` builds every command (`simkyc.cli.main`), each group in
its own module (`documents`, `liveness`, `admin`), all in the CLI's language (`lang`)."""
