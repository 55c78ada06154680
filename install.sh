#!/bin/sh
# Installs the bridge and registers it with OpenClaw as an exec secret provider.
#
#   ./install.sh [--prefix DIR] [--provider NAME] [--dry-run]
#   ./install.sh --uninstall [--purge] [--prefix DIR] [--provider NAME] [--dry-run]
#
# Installs into a private, trusted directory (default ~/.openclaw/bridge, mode
# 0700): an isolated venv with this checkout's package and a launcher at an
# absolute path, owned by you. Then registers the provider in OpenClaw's config
# (via `openclaw config patch` + `openclaw config validate` when openclaw is on
# PATH, else by editing ~/.openclaw/openclaw.json with a timestamped backup).
# Running it again gives the same result. POSIX sh, so macOS's shell runs it.
#
# What it created is listed in DIR/.openclaw-supabase-bridge (the manifest),
# and --uninstall removes only that: a --prefix may be a directory the user
# made, and nothing of theirs may ever go with it.
set -eu

DEFAULT_PREFIX="${HOME}/.openclaw/bridge"
PREFIX="$DEFAULT_PREFIX"
DEFAULT_PROVIDER="supabase"
PROVIDER="$DEFAULT_PROVIDER"
DRY_RUN=0
UNINSTALL=0
PURGE=0
MARKER=".openclaw-supabase-bridge"
MAX_SHEBANG=120

usage() {
  cat <<'USAGE'
usage: ./install.sh [--prefix DIR] [--provider NAME] [--dry-run]
       ./install.sh --uninstall [--purge] [--prefix DIR] [--provider NAME] [--dry-run]
  --prefix DIR     install here (default ~/.openclaw/bridge): an absolute path with no
                   whitespace, quotes, backslash, $, ` or control characters, that does
                   not exist yet, is empty, or holds an earlier install
  --provider NAME  OpenClaw provider name (default supabase)
  --dry-run        print what would change and change nothing (with --uninstall too)
  --uninstall      unregister the provider, then remove only what install.sh created
                   (listed in DIR/.openclaw-supabase-bridge); your other files stay
  --purge          with --uninstall: first erase the stored credentials and the cache
                   (bridge logout, bridge cache clear)
examples:
  ./install.sh --provider supabase --dry-run
  ./install.sh --uninstall --purge --dry-run
USAGE
}

die() {
  code=$1
  shift
  echo "install.sh: $*" >&2
  exit "$code"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die 2 "--prefix needs a directory, e.g. --prefix ~/.openclaw/bridge"; PREFIX="$2"; shift 2 ;;
    --provider) [ $# -ge 2 ] || die 2 "--provider needs a name, e.g. --provider supabase"; PROVIDER="$2"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die 2 "unknown option $1; see ./install.sh --help" ;;
  esac
done

[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || die 2 "--purge only goes with --uninstall: ./install.sh --uninstall --purge"

# Whitespace ends the interpreter path on a #! line, and quotes, backslash, $
# and ` would make every command we print for copy-and-paste wrong. The value
# is shown with unprintable characters as ? so the message stays one line.
case "$PREFIX" in
  *[[:space:][:cntrl:]]*|*[\"\'\\\`\$]*)
    shown=$(printf '%s' "$PREFIX" | tr -c '[:print:]' '?')
    die 2 "--prefix must not contain whitespace, quotes, backslash, \$, \` or control characters (got $shown); choose a plain path such as $DEFAULT_PREFIX" ;;
esac
case "$PREFIX" in
  /*) ;;
  *) die 2 "--prefix must be an absolute path, got $PREFIX" ;;
esac
while :; do
  case "$PREFIX" in
    */) PREFIX=${PREFIX%/} ;;
    *) break ;;
  esac
done
[ -n "$PREFIX" ] || die 2 "--prefix / is not a directory install.sh can own; choose a directory of its own such as $DEFAULT_PREFIX"
LAUNCHER="$PREFIX/bridge"
MANIFEST="$PREFIX/$MARKER"
SRC=$(CDPATH='' cd -- "$(dirname "$0")" && pwd -P)
PYTHON=${PYTHON:-python3}

# For printing commands that can be pasted back into a shell as they are.
quote() {
  case "$1" in
    '' | *[!-[:alnum:]_./:@%+,=]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
    *) printf '%s' "$1" ;;
  esac
}
Q_LAUNCHER=$(quote "$LAUNCHER")
OPTS=""
[ "$PREFIX" = "$DEFAULT_PREFIX" ] || OPTS=" --prefix $(quote "$PREFIX")"
[ "$PROVIDER" = "$DEFAULT_PROVIDER" ] || OPTS="$OPTS --provider $(quote "$PROVIDER")"
Q_SELF=$(quote "$SRC/install.sh")
REINSTALL_AND_PURGE="$Q_SELF$OPTS && $Q_SELF --uninstall --purge$OPTS"

# The checkout's own code, for steps that must run before (or after) the install exists.
checkout_bridge() {
  "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bridge.cli import main; sys.exit(main(sys.argv[2:]))' "$SRC" "$@"
}

# Sets HAVE_MANIFEST, CREATED_DIR, HAS_VENV, HAS_BRIDGE from the manifest. A
# symlink is not trusted as one. Earlier releases wrote an empty marker and
# made the directory in the usual case; rmdir only ever removes an empty
# directory, so reading that as created-dir cannot cost the user a file.
# Unknown lines are skipped: what a newer release lists, this one leaves.
read_manifest() {
  HAVE_MANIFEST=0 CREATED_DIR=0 HAS_VENV=0 HAS_BRIDGE=0
  if [ ! -f "$MANIFEST" ] || [ -L "$MANIFEST" ]; then
    return 0
  fi
  HAVE_MANIFEST=1
  if [ ! -s "$MANIFEST" ]; then
    CREATED_DIR=1 HAS_VENV=1 HAS_BRIDGE=1
    return 0
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      created-dir) CREATED_DIR=1 ;;
      venv) HAS_VENV=1 ;;
      bridge) HAS_BRIDGE=1 ;;
    esac
  done < "$MANIFEST"
}

# Entries of PREFIX that the manifest does not list, comma-separated on one line.
foreign_entries() {
  # shellcheck disable=SC2012 # names are only shown to the user, never used as paths
  ls -A "$PREFIX" | while IFS= read -r name; do
    case "$name" in
      "$MARKER") continue ;;
      venv) [ "$HAS_VENV" -eq 0 ] || continue ;;
      bridge) [ "$HAS_BRIDGE" -eq 0 ] || continue ;;
    esac
    printf '%s\n' "$name"
  done | tr -c '[:print:]\n' '?' | awk 'NR > 1 { printf ", " } { printf "%s", $0 }'
}

if [ "$UNINSTALL" -eq 1 ]; then
  read_manifest
  # A `bridge` the manifest does not list may be the user's own program: never run it.
  OWN_LAUNCHER=0
  if [ "$HAS_BRIDGE" -eq 1 ] && [ -f "$LAUNCHER" ] && [ -x "$LAUNCHER" ]; then
    OWN_LAUNCHER=1
  fi
  if [ "$PURGE" -eq 1 ] && [ "$OWN_LAUNCHER" -eq 0 ]; then
    die 1 "nothing is installed at $PREFIX to erase the stored credentials and the cache with; install, then purge: $REINSTALL_AND_PURGE"
  fi

  if [ "$DRY_RUN" -eq 1 ]; then
    if [ "$PURGE" -eq 1 ]; then
      echo "would run $Q_LAUNCHER cache clear (erases the cache)"
      echo "would run $Q_LAUNCHER logout (erases the stored credentials)"
    fi
    if [ "$OWN_LAUNCHER" -eq 1 ]; then
      "$LAUNCHER" unregister --provider "$PROVIDER" --dry-run
    else
      checkout_bridge unregister --provider "$PROVIDER" --dry-run
    fi
    if [ "$HAVE_MANIFEST" -eq 0 ]; then
      [ ! -e "$PREFIX" ] || die 1 "$PREFIX was not made by install.sh (no $MARKER); it would be left in place"
      exit 0
    fi
    if [ "$HAS_VENV" -eq 1 ] && [ -e "$PREFIX/venv" ]; then echo "would remove $PREFIX/venv"; fi
    if [ "$HAS_BRIDGE" -eq 1 ] && [ -e "$LAUNCHER" ]; then echo "would remove $LAUNCHER"; fi
    echo "would remove $MANIFEST"
    others=$(foreign_entries)
    if [ -n "$others" ]; then
      echo "would keep $PREFIX: it also holds files install.sh did not put there ($others)"
    elif [ "$CREATED_DIR" -eq 1 ]; then
      echo "would remove $PREFIX (then empty)"
    else
      echo "would keep $PREFIX (it existed before install.sh)"
    fi
    exit 0
  fi

  # Erased before anything is removed, so that a failure leaves the launcher to try again with.
  if [ "$PURGE" -eq 1 ]; then
    "$LAUNCHER" cache clear \
      || die 1 "$Q_LAUNCHER cache clear failed (see its message above); nothing was removed: fix that and run this again, or uninstall without --purge"
    "$LAUNCHER" logout \
      || die 1 "$Q_LAUNCHER logout failed (see its message above); nothing was removed: fix that and run this again, or uninstall without --purge"
  fi
  if [ "$OWN_LAUNCHER" -eq 1 ]; then
    "$LAUNCHER" unregister --provider "$PROVIDER"
  else
    checkout_bridge unregister --provider "$PROVIDER"
  fi
  if [ "$HAVE_MANIFEST" -eq 1 ]; then
    if [ "$HAS_VENV" -eq 1 ] && [ -e "$PREFIX/venv" ]; then
      rm -rf "$PREFIX/venv"
      echo "removed $PREFIX/venv"
    fi
    if [ "$HAS_BRIDGE" -eq 1 ] && { [ -e "$LAUNCHER" ] || [ -L "$LAUNCHER" ]; }; then
      rm -f "$LAUNCHER"
      echo "removed $LAUNCHER"
    fi
    rm -f "$MANIFEST"
    echo "removed $MANIFEST"
    others=$(foreign_entries)
    if [ -n "$others" ]; then
      echo "kept $PREFIX: it also holds files install.sh did not put there ($others)"
    elif [ "$CREATED_DIR" -eq 0 ]; then
      echo "kept $PREFIX (it existed before install.sh)"
    elif rmdir "$PREFIX" 2>/dev/null; then
      echo "removed $PREFIX"
    else
      echo "kept $PREFIX (rmdir could not remove it)"
    fi
  elif [ -e "$PREFIX" ]; then
    die 1 "$PREFIX was not made by install.sh (no $MARKER); left it in place, remove it yourself if it is yours to remove"
  fi
  if [ "$PURGE" -eq 1 ]; then
    echo "left alone: your secrets in Supabase Vault and the refs in openclaw.json"
  else
    echo "left alone: your secrets in Supabase Vault, the refs in openclaw.json, the stored credentials and the cache"
    echo "to erase them too: $REINSTALL_AND_PURGE"
  fi
  exit 0
fi

command -v "$PYTHON" >/dev/null 2>&1 || die 1 "$PYTHON not found; install Python 3.11 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die 1 "Python 3.11 or newer is required ($PYTHON is older); set PYTHON=/path/to/python3.11"

SHEBANG="#!$PREFIX/venv/bin/python -I"
if [ "${#SHEBANG}" -gt "$MAX_SHEBANG" ]; then
  die 2 "--prefix is too long for a script's #! line (${#SHEBANG} > $MAX_SHEBANG characters); choose a shorter path"
fi

# Only a directory that is new, empty, or already ours: installing into anything
# else would adopt (and on uninstall delete) a `venv` or `bridge` of the user's.
read_manifest
if [ -L "$PREFIX" ] && [ ! -e "$PREFIX" ]; then
  die 1 "$PREFIX is a symlink to nothing; remove it or choose another --prefix"
elif [ -e "$PREFIX" ] && [ ! -d "$PREFIX" ]; then
  die 1 "$PREFIX exists and is not a directory; choose another --prefix"
elif [ ! -e "$PREFIX" ]; then
  STATE=new
  CREATED_DIR=1
elif [ "$HAVE_MANIFEST" -eq 1 ]; then
  STATE=update
else
  [ -r "$PREFIX" ] || die 1 "cannot read $PREFIX to check it is empty; choose another --prefix"
  [ -z "$(ls -A "$PREFIX")" ] \
    || die 1 "$PREFIX already holds files and no $MARKER, so it is not an earlier install; choose another --prefix or empty it"
  STATE=empty
fi

if [ "$DRY_RUN" -eq 1 ]; then
  case "$STATE" in
    new) echo "would create $PREFIX (mode 0700) with a venv holding openclaw-supabase-bridge from $SRC" ;;
    empty) echo "would install into the empty $PREFIX (mode 0700 from then on) a venv holding openclaw-supabase-bridge from $SRC" ;;
    update) echo "would update the install in $PREFIX with openclaw-supabase-bridge from $SRC" ;;
  esac
  echo "would write the launcher $LAUNCHER (mode 0700) and the manifest $MANIFEST"
  checkout_bridge register --provider "$PROVIDER" --command "$LAUNCHER" --dry-run
  exit 0
fi

umask 077
if [ "$STATE" = new ]; then
  mkdir -p "$(dirname "$PREFIX")"
  mkdir "$PREFIX" || die 1 "cannot create $PREFIX; choose another --prefix"
fi
chmod 700 "$PREFIX"
# Written before the venv, so an interrupted install is still ours to redo or uninstall.
{
  echo "# made by openclaw-supabase-bridge's install.sh: what it created here, and all"
  echo "# that ./install.sh --uninstall removes"
  if [ "$CREATED_DIR" -eq 1 ]; then echo created-dir; fi
  echo venv
  echo bridge
} > "$MANIFEST.tmp.$$"
mv -f "$MANIFEST.tmp.$$" "$MANIFEST"

if [ ! -x "$PREFIX/venv/bin/python" ]; then
  "$PYTHON" -m venv "$PREFIX/venv" || {
    rm -rf "$PREFIX/venv"
    die 1 "$PYTHON cannot create a venv; on Debian/Ubuntu: sudo apt-get install python3-venv"
  }
fi
"$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade "$SRC" \
  || die 1 "pip could not install the bridge into $PREFIX/venv (see pip's message above); nothing was registered"

TMP="$LAUNCHER.tmp.$$"
printf '%s\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n' "$SHEBANG" > "$TMP"
chmod 700 "$TMP"
mv -f "$TMP" "$LAUNCHER"
echo "installed: $LAUNCHER"

"$LAUNCHER" register --provider "$PROVIDER"

cat <<NEXT
next steps:
  1. $Q_LAUNCHER login --url https://<project-ref>.supabase.co    (paste the secret key at the prompt)
  2. paste $SRC/setup.sql into your Supabase project's SQL editor and run it
  3. $Q_LAUNCHER doctor
then use refs like {"source":"exec","provider":"$PROVIDER","id":"OPENAI_API_KEY"} in openclaw.json
to uninstall: $Q_SELF --uninstall$OPTS
NEXT
