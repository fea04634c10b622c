"""The settings tests run with: explicit values, never the developer's `.env` or a stray
SIMKYC_* variable of their shell (a `.env` saying SIMKYC_POPULATION=lfw used to change which
thresholds the tests checked).

Only the documented test variables reach the tests (README, Testing): SIMKYC_TEST_POSTGRES_URL
(the PostgreSQL the integration tests use), SIMKYC_DATA_DIR and SIMKYC_MODELS_DIR (where
../shared's data and model weights are, when not beside the checkout)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from functools import cache
from pathlib import Path

from simkyc.config import Settings

TEST_VARIABLES = frozenset({"SIMKYC_TEST_POSTGRES_URL", "SIMKYC_DATA_DIR", "SIMKYC_MODELS_DIR"})
# The default recognizer, as the settings declare it: tests of "the default" follow a switch
# of the default (one line in config.py) instead of naming a model.
DEFAULT_RECOGNIZER = str(Settings.model_fields["recognizer"].default)


def isolate(environ: MutableMapping[str, str]) -> list[str]:
    """Remove from `environ` every SIMKYC_* variable but the test ones; the names removed."""
    stray = sorted(k for k in environ if k.startswith("SIMKYC_") and k not in TEST_VARIABLES)
    for name in stray:
        del environ[name]
    return stray


def ignore_env_file() -> None:
    """No `.env` is read by any Settings() built in this process (get_settings() included)."""
    Settings.model_config["env_file"] = None


@cache
def outside_checkout() -> Path:
    """An empty folder for the CLI's subprocesses to run in: pydantic-settings reads `.env`
    from the working directory, and a developer's `.env` sits in the checkout (the data and
    model folders default to places beside the checkout, not the working directory)."""
    return Path(tempfile.mkdtemp(prefix="simkyc-cli-cwd-"))


def shared_dir(variable: str) -> Path | None:
    """The folder a documented test variable names, or None (then Settings' own default)."""
    value = os.environ.get(variable)
    return Path(value) if value else None


def make_settings(**values: object) -> Settings:
    """Settings from explicit `values`, the data and model folders from the test variables,
    every other field at its default; never a `.env`."""
    folders = {field: path for field, path in (("data_dir", shared_dir("SIMKYC_DATA_DIR")),
                                               ("models_dir", shared_dir("SIMKYC_MODELS_DIR")))
               if path is not None}
    return Settings(_env_file=None, **{**folders, **values})  # type: ignore[arg-type]
