#!/bin/sh
# Installs the bridge and registers it with OpenClaw as an exec secret provider.
#
#   ./install.sh [--prefix DIR] [--provider NAME] [--dry-run]
#   ./install.sh --uninstall [--prefix DIR] [--provider NAME]
#
# Installs into a private, trusted directory (default ~/.openclaw/bridge, mode
# 0700): an isolated venv with this checkout's package and a launcher at an
# absolute path, owned by you. Then registers the provider in OpenClaw's config
# (via `openclaw config patch` + `openclaw config validate` when openclaw is on
# PATH, else by editing ~/.openclaw/openclaw.json with a timestamped backup).
# Running it again gives the same result. POSIX sh, so macOS's shell runs it.
set -eu

PREFIX="${HOME}/.openclaw/bridge"
PROVIDER="supabase"
DRY_RUN=0
UNINSTALL=0
MARKER=".openclaw-supabase-bridge"
MAX_SHEBANG=120

usage() {
  cat >&2 <<'USAGE'
usage: ./install.sh [--prefix DIR] [--provider NAME] [--dry-run]
       ./install.sh --uninstall [--prefix DIR] [--provider NAME]
example:
  ./install.sh --provider supabase --dry-run
USAGE
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { usage; exit 2; }; PREFIX="$2"; shift 2 ;;
    --provider) [ $# -ge 2 ] || { usage; exit 2; }; PROVIDER="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage; exit 2 ;;
  esac
done

case "$PREFIX" in
  /*) ;;
  *) echo "install.sh: --prefix must be an absolute path, got $PREFIX" >&2; exit 2 ;;
esac
PREFIX=${PREFIX%/}
LAUNCHER="$PREFIX/bridge"
SRC=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}

# The checkout's own code, for steps that must run before (or after) the install exists.
checkout_bridge() {
  "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bridge.cli import main; sys.exit(main(sys.argv[2:]))' "$SRC" "$@"
}

if [ "$UNINSTALL" -eq 1 ]; then
  if [ -x "$LAUNCHER" ]; then
    "$LAUNCHER" unregister --provider "$PROVIDER"
  else
    checkout_bridge unregister --provider "$PROVIDER"
  fi
  if [ -f "$PREFIX/$MARKER" ]; then
    rm -rf "$PREFIX"
    echo "removed $PREFIX"
  elif [ -e "$PREFIX" ]; then
    echo "install.sh: $PREFIX was not made by install.sh (no $MARKER); left it in place" >&2
    exit 1
  fi
  echo "left alone: your secrets in Supabase Vault, the refs in openclaw.json, the stored credentials and the cache"
  echo "(to erase those two first: $LAUNCHER logout; $LAUNCHER cache clear)"
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || { echo "install.sh: $PYTHON not found; install Python 3.11 or newer" >&2; exit 1; }
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "install.sh: Python 3.11 or newer is required ($PYTHON is older); set PYTHON=/path/to/python3.11" >&2; exit 1; }

SHEBANG="#!$PREFIX/venv/bin/python -I"
if [ "${#SHEBANG}" -gt "$MAX_SHEBANG" ]; then
  echo "install.sh: --prefix is too long for a script's #! line (${#SHEBANG} > $MAX_SHEBANG characters); choose a shorter path" >&2
  exit 2
fi

if [ "$DRY_RUN" -eq 1 ]; then
  echo "would create $PREFIX (mode 0700) with a venv holding openclaw-supabase-bridge from $SRC"
  echo "would write the launcher $LAUNCHER (mode 0700)"
  checkout_bridge register --provider "$PROVIDER" --command "$LAUNCHER" --dry-run
  exit 0
fi

umask 077
mkdir -p "$PREFIX"
chmod 700 "$PREFIX"
: > "$PREFIX/$MARKER"
if [ ! -x "$PREFIX/venv/bin/python" ]; then
  "$PYTHON" -m venv "$PREFIX/venv" || {
    rm -rf "$PREFIX/venv"
    echo "install.sh: $PYTHON cannot create a venv; on Debian/Ubuntu: sudo apt-get install python3-venv" >&2
    exit 1
  }
fi
"$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade "$SRC" || {
  echo "install.sh: pip could not install the bridge into $PREFIX/venv (see pip's message above); nothing was registered" >&2
  exit 1
}

TMP="$LAUNCHER.tmp.$$"
printf '%s\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n' "$SHEBANG" > "$TMP"
chmod 700 "$TMP"
mv -f "$TMP" "$LAUNCHER"
echo "installed: $LAUNCHER"

"$LAUNCHER" register --provider "$PROVIDER"

cat <<NEXT
next steps:
  1. $LAUNCHER login --url https://<project-ref>.supabase.co    (paste the secret key at the prompt)
  2. paste $SRC/setup.sql into your Supabase project's SQL editor and run it
  3. $LAUNCHER doctor
then use refs like {"source":"exec","provider":"$PROVIDER","id":"OPENAI_API_KEY"} in openclaw.json
NEXT
