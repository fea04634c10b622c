#!/usr/bin/env bash
# simkyc's two commands on a fresh clone:
#   ./run.sh serve   set up, then run the service (embedded SQLite, bundled models)
#   ./run.sh test    set up, then lint, type-check and run the tests
# Only the package registries are needed; everything else comes from ../shared (models, data).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV"
    fi
    # A stamp keeps re-runs fast; it changes when pyproject.toml does.
    local stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        "$VENV/bin/pip" install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
        "$VENV/bin/pip" install --quiet -e ".[dev]" 2>&1 | grep -v "^WARNING: Location" || true
        # RapidOCR (card OCR; its models are inside the wheel) declares opencv-python, a second
        # cv2 over opencv-contrib-python: install it alone; what it imports is in pyproject.
        "$VENV/bin/pip" install --quiet --no-deps "rapidocr_onnxruntime==1.4.4" 2>&1 |
            grep -v "^WARNING: Location\|requires opencv-python\|requires six\|requires tqdm" || true
        "$VENV/bin/python" -c "import simkyc, cv2, onnxruntime, mediapipe, rapidocr_onnxruntime" # fail early
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

# Debian packages the tests need, installed when FILE is missing (as root; otherwise a warning
# and the tests that need them fail in CI, skip elsewhere):
#   chromium            the web pages' browser tests (tests/e2e/web)
#   fonts-wqy-microhei  CN specimen cards print the holder's name in Chinese; the OCR tests
#                       read it back (5 MB)
#   haproxy             the load balancer in front of several `simkyc serve` processes in the
#                       multi-process tests (tests/deploy)
#   tesseract-ocr       the second MRZ reader (documents/tesseract.py) and PassportEye's OCR
#                       in bench/documents.py
#   fonts-ocr-b         the MRZ face (OCR-B) the MRZ tests print their pages in
ensure_package() {
    local file=$1 package=$2
    [ -e "$file" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: $file is missing and we are not root: install Debian's $package" >&2
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$package" >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null && apt-get install -y -qq "$package" >/dev/null; }
}

case "${1:-}" in
    serve)
        setup
        shift
        exec "$VENV/bin/simkyc" serve "$@"
        ;;
    test)
        setup
        shift
        # A throwaway PostgreSQL (Debian's package) for the integration tests, unless one is
        # configured; the same tests also run on SQLite.
        if [ -z "${SIMKYC_TEST_POSTGRES_URL:-}" ]; then
            SIMKYC_TEST_POSTGRES_URL=$(scripts/postgres.sh)
        fi
        export SIMKYC_TEST_POSTGRES_URL
        ensure_package /usr/bin/chromium chromium
        ensure_package /usr/share/fonts/truetype/wqy/wqy-microhei.ttc fonts-wqy-microhei
        ensure_package /usr/sbin/haproxy haproxy
        ensure_package /usr/bin/tesseract tesseract-ocr
        ensure_package /usr/share/fonts/opentype/ocr-b/OCRB.otf fonts-ocr-b
        "$VENV/bin/ruff" check src tests bench scripts
        "$VENV/bin/mypy" --strict src
        exec "$VENV/bin/pytest" "$@"
        ;;
    *)
        echo "usage: $0 serve|test [args...]" >&2
        exit 2
        ;;
esac
