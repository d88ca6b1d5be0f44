#!/usr/bin/env bash
# Install Debian's Chromium for the browser test (tests/test_service_browser.py).
#
# Playwright's own browser download (`playwright install`) needs hosts this project cannot
# reach, so the test drives the distribution's Chromium at /usr/bin/chromium instead. The test
# session calls this script when that binary is missing; it is safe to run again.
# Exit status: 0 when /usr/bin/chromium is usable afterwards, non-zero otherwise.
set -euo pipefail

BROWSER=/usr/bin/chromium

if [ -x "$BROWSER" ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: apt-get not found; install Chromium at $BROWSER by hand" >&2
    exit 2
fi

run() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        echo "install_browser: not root and no sudo; cannot run: $*" >&2
        return 2
    fi
}

export DEBIAN_FRONTEND=noninteractive
run apt-get update -q
# Fonts so the screenshot shows text rather than empty boxes.
run apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core

if [ ! -x "$BROWSER" ]; then
    echo "install_browser: apt-get finished but $BROWSER is missing" >&2
    exit 3
fi
"$BROWSER" --version
