#!/usr/bin/env bash
# Installs what mailservice needs on a fresh Debian machine: a virtualenv with the
# package, and (for tests and benchmarks) Debian's Dovecot and isync. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

want_system_packages="${1:-}"
if [[ "$want_system_packages" == "--test" ]]; then
    missing=()
    command -v dovecot >/dev/null || missing+=(dovecot-imapd)
    command -v mbsync >/dev/null || missing+=(isync)
    [[ -x /usr/bin/time ]] || missing+=(time)  # the sync benchmark's peak memory
    # The web inbox's browser tests drive Debian's Chromium through Playwright.
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    # WeasyPrint (per-recipient PDFs of mailings) draws text with Pango; DejaVu
    # is the documents' default font.
    ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
    [[ -d /usr/share/fonts/truetype/dejavu ]] || missing+=(fonts-dejavu-core)
    command -v wrk >/dev/null || missing+=(wrk)  # load tool of `benchmarks web`
    if ((${#missing[@]})); then
        echo "installing Debian packages: ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

if [[ ! -x .venv/bin/python ]]; then
    python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [[ ! -f "$stamp" ]]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e ".[test]"
    touch "$stamp"
fi
