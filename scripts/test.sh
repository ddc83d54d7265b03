#!/usr/bin/env bash
# Set up and run the test suite from a clean clone: dev tools, a virtual environment, pytest.
# Debian dev tools (espeak-ng for synthetic speech, chromium for the browser test) are installed
# when running as root and missing; otherwise the tests that need them skip and say why.
set -uo pipefail
cd "$(dirname "$0")/.."

need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing dev tools: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") \
    >/dev/null 2>&1 || echo "warning: could not install ${need[*]}; tests needing them will skip"
fi

python3 -m venv .venv || exit 1
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]" || exit 1
.venv/bin/python -m pytest "$@"
code=$?
if [ "$code" = 5 ]; then
  echo "no tests were collected: failing on purpose" >&2
  exit 1
fi
exit "$code"
