#!/usr/bin/env bash
# One-time set-up on a fresh machine: a virtual environment in .venv with torch pinned first,
# then plantwatch in editable mode with its development extras.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
# Debian packages: Japanese fonts, Pango and HarfBuzz subsetting for the PDF flight plans
# (weasyprint), poppler for checking rendered PDFs, Chromium for the browser tests (Playwright
# drives Debian's build; it cannot download its own here), PostgreSQL for the store's tests. Installed only when missing and when we may (root, apt available).
need=""
for pkg in fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    chromium postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  else
    echo "setup.sh: please install the Debian packages:$need (PDF documents need them)" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# torch first and pinned: the CPU wheel is provided locally; a later unpinned resolve would pull CUDA.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet -e ".[dev]"
# Warm the numba cache once so the first simulation does not pay the JIT compile.
python -m plantwatch.gas.render --warm >/dev/null 2>&1 || true
echo "plantwatch installed in .venv (activate with: . .venv/bin/activate)"
