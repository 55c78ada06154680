#!/bin/sh
# Installs the bridge into a private, trusted directory: an isolated venv with
# this checkout's package and a launcher at an absolute path that OpenClaw can
# run as an exec secret provider. POSIX sh, so it also runs on macOS.
#
#   ./install.sh [--prefix DIR]
set -eu

PREFIX="${HOME}/.openclaw/bridge"

usage() {
  echo "usage: ./install.sh [--prefix DIR]" >&2
  echo "example: ./install.sh --prefix \"\$HOME/.openclaw/bridge\"" >&2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { usage; exit 2; }; PREFIX="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage; exit 2 ;;
  esac
done

case "$PREFIX" in
  /*) ;;
  *) echo "install.sh: --prefix must be an absolute path, got $PREFIX" >&2; exit 2 ;;
esac

SRC=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || { echo "install.sh: $PYTHON not found; install Python 3.11 or newer" >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "install.sh: Python 3.11 or newer is required ($PYTHON is older)" >&2; exit 1; }

umask 077
mkdir -p "$PREFIX"
chmod 700 "$PREFIX"
if [ ! -x "$PREFIX/venv/bin/python" ]; then
  "$PYTHON" -m venv "$PREFIX/venv"
fi
"$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade "$SRC"

LAUNCHER="$PREFIX/bridge"
TMP="$LAUNCHER.tmp.$$"
cat > "$TMP" <<LAUNCH
#!$PREFIX/venv/bin/python -I
import sys
from bridge.cli import main
sys.exit(main())
LAUNCH
chmod 700 "$TMP"
mv -f "$TMP" "$LAUNCHER"

echo "installed: $LAUNCHER"
echo "next steps:"
echo "  1. paste setup.sql into your Supabase project's SQL editor and run it"
echo "  2. $LAUNCHER --help"
