#!/bin/sh
# Installs the bridge and registers it with OpenClaw as an exec secret provider.
#
#   ./install.sh [--prefix DIR] [--provider NAME] [--with-watch] [--with-ui] [--dry-run]
#   ./install.sh --uninstall [--purge] [--prefix DIR] [--provider NAME] [--dry-run]
#
# Installs into a private, trusted directory (default ~/.openclaw/bridge, mode
# 0700): an isolated venv with this checkout's package and a launcher at an
# absolute path, owned by you. Then registers the provider in OpenClaw's config
# (via `openclaw config patch` + `openclaw config validate` when openclaw is on
# PATH, else by editing ~/.openclaw/openclaw.json with a timestamped backup).
# Running it again gives the same result. POSIX sh, so macOS's shell runs it.
# --with-watch also runs `bridge watch` as a service of your own: a systemd user
# unit on Linux, a launchd agent on macOS (see "the watcher" below).
#
# It prints each step as `==> ...` as it takes it; --dry-run prints the same lines
# (the steps are listed once, see "actions" below) and changes nothing.
#
# What it created is listed in DIR/.openclaw-supabase-bridge (the manifest),
# and --uninstall removes only that: a --prefix may be a directory the user
# made, and nothing of theirs may ever go with it. The watcher's unit or agent
# lives outside DIR: the manifest lists it as `watch`, and the file names the
# launcher it was written for, so only that one is ever stopped or removed.
set -eu

DEFAULT_PREFIX="${HOME}/.openclaw/bridge"
PREFIX="$DEFAULT_PREFIX"
DEFAULT_PROVIDER="supabase"
PROVIDER="$DEFAULT_PROVIDER"
DRY_RUN=0
UNINSTALL=0
PURGE=0
WITH_WATCH=0
WATCH=0
WITH_UI=0
UI=0
MARKER=".openclaw-supabase-bridge"
MAX_SHEBANG=120

usage() {
  cat <<'USAGE'
usage: ./install.sh [--prefix DIR] [--provider NAME] [--with-watch] [--with-ui] [--dry-run]
       ./install.sh --uninstall [--purge] [--prefix DIR] [--provider NAME] [--dry-run]
  --prefix DIR     install here (default ~/.openclaw/bridge): an absolute path with no
                   whitespace, quotes, backslash, $, ` or control characters, that does
                   not exist yet, is empty, or holds an earlier install
  --provider NAME  OpenClaw provider name (default supabase)
  --with-watch     also run `bridge watch` (rotations reach the running gateway) as a
                   systemd user unit (Linux) or launchd agent (macOS), started now when
                   the service manager runs, else the command to start it is printed;
                   later runs keep it, and --uninstall stops and removes it
  --with-ui        also install the local dashboard, `bridge ui` (Starlette, uvicorn and
                   Jinja2 in the venv; the resolve path never imports them); later runs keep it
  --dry-run        print the steps a real run takes and change nothing (with --uninstall too)
  --uninstall      unregister the provider, then remove only what install.sh created
                   (listed in DIR/.openclaw-supabase-bridge); your other files stay
  --purge          with --uninstall: first erase the stored credentials and the cache
                   (bridge logout, bridge cache clear)
examples:
  ./install.sh --provider supabase --dry-run
  ./install.sh --with-watch --dry-run
  ./install.sh --with-ui && ~/.openclaw/bridge/bridge ui
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
    --with-watch) WITH_WATCH=1; shift ;;
    --with-ui) WITH_UI=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die 2 "unknown option $1; see ./install.sh --help" ;;
  esac
done

[ "$PURGE" -eq 0 ] || [ "$UNINSTALL" -eq 1 ] || die 2 "--purge only goes with --uninstall: ./install.sh --uninstall --purge"
[ "$WITH_WATCH" -eq 0 ] || [ "$UNINSTALL" -eq 0 ] \
  || die 2 "--with-watch goes with an install; --uninstall removes the watcher it set up by itself"
[ "$WITH_UI" -eq 0 ] || [ "$UNINSTALL" -eq 0 ] \
  || die 2 "--with-ui goes with an install; --uninstall removes the dashboard with the venv"

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
# The rule of bridge/openclaw/config.py's PROVIDER_NAME (tests hold the two to the same answers), checked
# before the name goes into a unit file, a plist or a printed command.
if ! printf '%s' "$PROVIDER" | LC_ALL=C grep -Eqx '[a-z][a-z0-9_-]{0,63}' || [ "$(printf '%s\n' "$PROVIDER" | wc -l)" -ne 1 ]; then
  shown=$(printf '%s' "$PROVIDER" | tr -c '[:print:]' '?')
  die 2 "--provider $shown: use a lowercase letter, then up to 63 of a-z 0-9 _ -, e.g. --provider supabase"
fi
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

# Sets HAVE_MANIFEST, CREATED_DIR, HAS_VENV, HAS_BRIDGE, HAS_WATCH from the manifest. A
# symlink is not trusted as one. Earlier releases wrote an empty marker and
# made the directory in the usual case; rmdir only ever removes an empty
# directory, so reading that as created-dir cannot cost the user a file.
# Unknown lines are skipped: what a newer release lists, this one leaves.
read_manifest() {
  HAVE_MANIFEST=0 CREATED_DIR=0 HAS_VENV=0 HAS_BRIDGE=0 HAS_WATCH=0 HAS_UI=0
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
      watch) HAS_WATCH=1 ;;
      ui) HAS_UI=1 ;;
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

# --- the watcher ------------------------------------------------------------------------------
# `bridge watch` run by the user's own service manager, a systemd user unit on Linux or a launchd
# agent on macOS: `bridge watch install` writes, enables and starts it, `bridge watch uninstall`
# stops and removes it (bridge/watch/service.py). The file says which launcher it was written for,
# so only this install's is ever changed, stopped or removed. install.sh only picks the manager
# and asks, before it makes anything, whether the file may go there.
WATCH_OPTS=""
[ "$PROVIDER" = "$DEFAULT_PROVIDER" ] || WATCH_OPTS=" --provider $PROVIDER"
WATCH_RESTART=""

# Sets WATCH_KIND, the service manager `bridge watch install --manager` writes for.
watch_setup() {
  case "$(uname -s)" in
    Linux) WATCH_KIND=systemd ;;
    Darwin) WATCH_KIND=launchd ;;
    *) die 2 "--with-watch knows systemd (Linux) and launchd (macOS); elsewhere run $Q_LAUNCHER watch$WATCH_OPTS under your own service manager" ;;
  esac
}

# Prints new or ours when the watcher's file for this launcher may be written; else its one line
# on stderr and a non-zero exit. The checkout's own module, which needs only the standard library.
watch_check() {
  "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from bridge.watch.service import precheck; sys.exit(precheck(sys.argv[2:]))' \
    "$SRC" "$WATCH_KIND" "$LAUNCHER"
}

# --- actions -----------------------------------------------------------------------------
# Each step is a function act_NAME that holds both its description and its commands:
#   act_NAME describe   prints the one line shown for it, in a dry run and a real run alike
#   act_NAME perform    does it
#   act_NAME preview    in a dry run, after the line: what a `bridge` verb would do, by running
#                       the same verb with --dry-run (the other steps show nothing more)
# The plan is the list of names, decided (with every check it needs) before any step runs;
# run_plan then prints each line and performs each step in order, or, with --dry-run, only
# prints them. So a dry run shows the steps a real run takes, and nothing else can.
# Steps take only that word: they read the settings fixed above and the state read by the
# plan, and never change them, so a description is the same whenever it is asked for.
PLAN=""
plan() { PLAN="$PLAN $1"; }

run_plan() {
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "dry run: nothing is changed; without --dry-run install.sh takes these steps:"
  fi
  for action in $PLAN; do
    line=$("act_$action" describe)
    printf '==> %s\n' "$line"
    if [ "$DRY_RUN" -eq 1 ]; then "act_$action" preview; else "act_$action" perform; fi
  done
}

run_launcher() { "$LAUNCHER" "$@"; }

# A `bridge` verb that has its own --dry-run: a dry run runs the same words with --dry-run.
bridge_verb() {
  mode=$1 runner=$2
  shift 2
  case "$mode" in
    preview) "$runner" "$@" --dry-run ;;
    perform) "$runner" "$@" ;;
  esac
}

# Install steps.
act_prefix() {
  case "$1" in
    describe)
      case "$STATE" in
        new) echo "create $PREFIX (mode 0700)" ;;
        empty) echo "install into the empty $PREFIX (mode 0700 from then on)" ;;
        update) echo "update the install in $PREFIX (mode 0700)" ;;
      esac ;;
    perform)
      umask 077
      if [ "$STATE" = new ]; then
        mkdir -p "$(dirname "$PREFIX")"
        mkdir "$PREFIX" || die 1 "cannot create $PREFIX; choose another --prefix"
      fi
      chmod 700 "$PREFIX" ;;
  esac
}

# Written before the venv, so an interrupted install is still ours to redo or uninstall.
act_manifest() {
  case "$1" in
    describe) echo "write the manifest $MANIFEST (what install.sh made here)" ;;
    perform)
      {
        echo "# made by openclaw-supabase-bridge's install.sh: what it created here, and all"
        echo "# that ./install.sh --uninstall removes"
        if [ "$CREATED_DIR" -eq 1 ]; then echo created-dir; fi
        echo venv
        echo bridge
        if [ "$WATCH" -eq 1 ]; then echo watch; fi
        if [ "$UI" -eq 1 ]; then echo ui; fi
      } > "$MANIFEST.tmp.$$"
      mv -f "$MANIFEST.tmp.$$" "$MANIFEST" ;;
  esac
}

act_venv() {
  case "$1" in
    describe) echo "create the venv $PREFIX/venv" ;;
    perform)
      "$PYTHON" -m venv "$PREFIX/venv" || {
        rm -rf "$PREFIX/venv"
        die 1 "$PYTHON cannot create a venv; on Debian/Ubuntu: sudo apt-get install python3-venv"
      } ;;
  esac
}

act_pip() {
  case "$1" in
    describe)
      if [ "$UI" -eq 1 ]; then
        echo "install openclaw-supabase-bridge with its dashboard (bridge ui) from $SRC into $PREFIX/venv"
      else
        echo "install openclaw-supabase-bridge from $SRC into $PREFIX/venv"
      fi ;;
    perform)
      target="$SRC"
      if [ "$UI" -eq 1 ]; then target="$SRC[ui]"; fi
      "$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade "$target" \
        || die 1 "pip could not install the bridge into $PREFIX/venv (see pip's message above); nothing was registered" ;;
  esac
}

act_launcher() {
  case "$1" in
    describe) echo "write the launcher $LAUNCHER (mode 0700), which runs the venv's Python with -I" ;;
    perform)
      printf '%s\nimport sys\nfrom bridge.cli import main\nsys.exit(main())\n' "$SHEBANG" > "$LAUNCHER.tmp.$$"
      chmod 700 "$LAUNCHER.tmp.$$"
      mv -f "$LAUNCHER.tmp.$$" "$LAUNCHER" ;;
  esac
}

# The launcher registers itself; a dry run has no launcher yet, so the checkout's code
# previews it, told the launcher's path.
act_register() {
  case "$1" in
    describe) echo "register provider '$PROVIDER' with OpenClaw, running $Q_LAUNCHER" ;;
    preview) checkout_bridge register --provider "$PROVIDER" --command "$LAUNCHER" --dry-run ;;
    perform) run_launcher register --provider "$PROVIDER" ;;
  esac
}

# The watcher, set up after the registration it serves; an update restarts it, so that it runs the
# code just installed.
act_watch_install() {
  case "$1" in
    describe) echo "set up the watcher: $Q_LAUNCHER watch install$WATCH_OPTS$WATCH_RESTART" ;;
    # shellcheck disable=SC2086 # WATCH_OPTS and WATCH_RESTART are plain words checked above
    preview) checkout_bridge watch install --manager "$WATCH_KIND" --command "$LAUNCHER" $WATCH_OPTS $WATCH_RESTART --dry-run ;;
    perform)
      # shellcheck disable=SC2086
      run_launcher watch install --manager "$WATCH_KIND" $WATCH_OPTS $WATCH_RESTART \
        || die 1 "the watcher is not set up (see the message above); fix that, then run: $Q_LAUNCHER watch install$WATCH_OPTS" ;;
  esac
}

# Uninstall steps. The purge runs before anything is removed, so that a failure leaves
# the launcher to try again with.
act_cache_clear() {
  case "$1" in
    describe) echo "run $Q_LAUNCHER cache clear (erases the cache)" ;;
    perform)
      run_launcher cache clear \
        || die 1 "$Q_LAUNCHER cache clear failed (see its message above); nothing was removed: fix that and run this again, or uninstall without --purge" ;;
  esac
}

act_logout() {
  case "$1" in
    describe) echo "run $Q_LAUNCHER logout (erases the stored credentials)" ;;
    perform)
      run_launcher logout \
        || die 1 "$Q_LAUNCHER logout failed (see its message above); nothing was removed: fix that and run this again, or uninstall without --purge" ;;
  esac
}

act_unregister() {
  case "$1" in
    describe) echo "unregister provider '$PROVIDER' from OpenClaw" ;;
    *) bridge_verb "$1" "$UNREGISTER_WITH" unregister --provider "$PROVIDER" ;;
  esac
}

# Stopped and removed first, so that it neither refills the cache during a purge nor reloads a
# gateway whose provider is gone; `bridge watch uninstall` removes only the file written for this
# launcher, and a failure to stop it leaves everything in place.
act_watch_uninstall() {
  case "$1" in
    describe) echo "stop and remove the watcher: $Q_LAUNCHER watch uninstall" ;;
    preview) "$UNREGISTER_WITH" watch uninstall --manager "$WATCH_KIND" --command "$LAUNCHER" --dry-run ;;
    perform)
      "$UNREGISTER_WITH" watch uninstall --manager "$WATCH_KIND" --command "$LAUNCHER" \
        || die 1 "the watcher was not removed (see the message above); nothing else was: fix that and run this again" ;;
  esac
}

# The watcher's state file and locks, in the bridge's data directory: made by the watcher this
# install ran, so they go with it (the bridge knows where that directory is).
act_forget_watch() {
  case "$1" in
    describe) echo "run $Q_LAUNCHER watch --forget (removes the watcher's state file and locks)" ;;
    perform)
      run_launcher watch --forget \
        || die 1 "$Q_LAUNCHER watch --forget failed (see its message above); run it again before uninstalling" ;;
  esac
}

act_remove_venv() {
  case "$1" in
    describe) echo "remove $PREFIX/venv" ;;
    perform) rm -rf "$PREFIX/venv" ;;
  esac
}

act_remove_launcher() {
  case "$1" in
    describe) echo "remove $LAUNCHER" ;;
    perform) rm -f "$LAUNCHER" ;;
  esac
}

act_remove_manifest() {
  case "$1" in
    describe) echo "remove $MANIFEST" ;;
    perform) rm -f "$MANIFEST" ;;
  esac
}

act_keep_shared_prefix() {
  case "$1" in
    describe) echo "keep $PREFIX: it also holds files install.sh did not put there ($OTHERS)" ;;
  esac
}

act_keep_premade_prefix() {
  case "$1" in
    describe) echo "keep $PREFIX (it existed before install.sh)" ;;
  esac
}

# rmdir only ever removes an empty directory.
act_remove_prefix() {
  case "$1" in
    describe) echo "remove $PREFIX (then empty)" ;;
    perform) rmdir "$PREFIX" 2>/dev/null || echo "kept $PREFIX (rmdir could not remove it)" ;;
  esac
}

# --- uninstall ----------------------------------------------------------------------------
if [ "$UNINSTALL" -eq 1 ]; then
  read_manifest
  # A `bridge` the manifest does not list may be the user's own program: never run it.
  UNREGISTER_WITH=checkout_bridge
  if [ "$HAS_BRIDGE" -eq 1 ] && [ -f "$LAUNCHER" ] && [ -x "$LAUNCHER" ]; then
    UNREGISTER_WITH=run_launcher
  fi
  if [ "$PURGE" -eq 1 ]; then
    [ "$UNREGISTER_WITH" = run_launcher ] \
      || die 1 "nothing is installed at $PREFIX to erase the stored credentials and the cache with; install, then purge: $REINSTALL_AND_PURGE"
  fi
  # The watcher the manifest lists: stopped and removed first, by `bridge watch uninstall`, which
  # keeps a file that is not the one written for this launcher; its state files go only with ours.
  WATCH_OURS=0
  if [ "$HAVE_MANIFEST" -eq 1 ] && [ "$HAS_WATCH" -eq 1 ]; then
    watch_setup
    if [ "$(watch_check 2>/dev/null)" = ours ]; then WATCH_OURS=1; fi
    plan watch_uninstall
  fi
  if [ "$PURGE" -eq 1 ]; then
    plan cache_clear
    plan logout
  fi
  if [ "$WATCH_OURS" -eq 1 ] && [ "$UNREGISTER_WITH" = run_launcher ]; then plan forget_watch; fi
  plan unregister
  REFUSAL=""
  if [ "$HAVE_MANIFEST" -eq 1 ]; then
    if [ "$HAS_VENV" -eq 1 ] && [ -e "$PREFIX/venv" ]; then plan remove_venv; fi
    if [ "$HAS_BRIDGE" -eq 1 ] && { [ -e "$LAUNCHER" ] || [ -L "$LAUNCHER" ]; }; then plan remove_launcher; fi
    plan remove_manifest
    # What is left once the listed entries are gone: the same before the removals as after.
    OTHERS=$(foreign_entries)
    if [ -n "$OTHERS" ]; then
      plan keep_shared_prefix
    elif [ "$CREATED_DIR" -eq 0 ]; then
      plan keep_premade_prefix
    else
      plan remove_prefix
    fi
  elif [ -e "$PREFIX" ]; then
    REFUSAL="$PREFIX was not made by install.sh (no $MARKER); left it in place, remove it yourself if it is yours to remove"
  fi

  run_plan
  [ -z "$REFUSAL" ] || die 1 "$REFUSAL"
  [ "$DRY_RUN" -eq 0 ] || exit 0
  if [ "$PURGE" -eq 1 ]; then
    echo "left alone: your secrets in Supabase Vault and the refs in openclaw.json"
  else
    echo "left alone: your secrets in Supabase Vault, the refs in openclaw.json, the stored credentials and the cache"
    echo "to erase them too: $REINSTALL_AND_PURGE"
  fi
  exit 0
fi

# --- install ------------------------------------------------------------------------------
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

# The watcher: set up with --with-watch, and kept up to date by every later run while the
# manifest lists it and its file is still the one written for this launcher. Never over a file of
# someone else's: that, or a setting that cannot go into the file, is refused before anything.
if [ "$WITH_WATCH" -eq 1 ] || { [ "$HAVE_MANIFEST" -eq 1 ] && [ "$HAS_WATCH" -eq 1 ]; }; then
  watch_setup
  # Exit 1 is a file of someone else's: refused with --with-watch, else the watcher is no longer
  # part of this install. Anything else (a setting the file cannot hold) is refused either way.
  if WATCH_STATE=$(watch_check 2>&1); then
    WATCH=1
    [ "$WATCH_STATE" != ours ] || [ "$STATE" != update ] || WATCH_RESTART=" --restart"
  else
    code=$?
    if [ "$WITH_WATCH" -eq 1 ] || [ "$code" -ne 1 ]; then die "$code" "$WATCH_STATE"; fi
  fi
fi
# The dashboard (bridge ui): its libraries go into the venv with --with-ui, and stay there on
# every later run while the manifest lists it.
if [ "$WITH_UI" -eq 1 ] || { [ "$HAVE_MANIFEST" -eq 1 ] && [ "$HAS_UI" -eq 1 ]; }; then UI=1; fi

plan prefix
plan manifest
if [ ! -x "$PREFIX/venv/bin/python" ]; then plan venv; fi
plan pip
plan launcher
plan register
if [ "$WATCH" -eq 1 ]; then plan watch_install; fi

run_plan
[ "$DRY_RUN" -eq 0 ] || exit 0
DOCTOR_STEP=3
WATCH_STEP=""
if [ "$WATCH" -eq 1 ]; then
  DOCTOR_STEP=4
  WATCH_STEP="  3. $Q_LAUNCHER watch install$WATCH_OPTS --restart    (starts the watcher, now with the credentials)"
fi
cat <<NEXT
installed: $LAUNCHER
next steps:
  1. $Q_LAUNCHER login --url https://<project-ref>.supabase.co    (paste the secret key at the prompt)
  2. paste $SRC/setup.sql into your Supabase project's SQL editor and run it
${WATCH_STEP:+$WATCH_STEP
}  $DOCTOR_STEP. $Q_LAUNCHER doctor
then use refs like {"source":"exec","provider":"$PROVIDER","id":"OPENAI_API_KEY"} in openclaw.json
to uninstall: $Q_SELF --uninstall$OPTS
NEXT
if [ "$UI" -eq 1 ]; then echo "the dashboard: $Q_LAUNCHER ui    (prints a one-time URL on 127.0.0.1)"; fi
