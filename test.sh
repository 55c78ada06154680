#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs what it needs
# (Debian packages via apt-get, Python packages via pip, Node and OpenClaw via
# npm), then runs pytest. Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")"

# PostgreSQL for the database tests, GNOME Keyring in a D-Bus session for the
# keyring tests, npm to fetch Node 24 and the real OpenClaw gateway (the
# OpenClaw tests install those into .test-tools/ on first use), and Chromium with
# its driver for the dashboard's tests in a real browser; strace to kill a rewrite
# at each of its system calls, and perl for bridge run's PERL5LIB test.
APT_PACKAGES="postgresql postgresql-contrib gnome-keyring dbus libsecret-tools chromium chromium-driver strace perl"

missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing Debian packages:$missing; run: sudo apt-get install -y$missing" >&2
    exit 1
  fi
  echo "test.sh: installing Debian packages:$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,ui]'

# Lint, strict types and the layer contract first: a minute of pytest is wasted on code that does not
# type-check or imports the wrong way (the contracts, and mypy's files, are in pyproject.toml). The tests
# and benchmarks are held to the same rules as the bridge.
.venv/bin/ruff check bridge/ tests/ benchmarks/ sql/
.venv/bin/mypy --strict
.venv/bin/lint-imports
# setup.sql and the newest migration are built from sql/: a hand edit to either, or a change under sql/ that was
# not built, fails here rather than reaching a user.
.venv/bin/python sql/build.py --check

exec .venv/bin/python -m pytest "$@"
