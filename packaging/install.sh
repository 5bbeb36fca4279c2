#!/bin/sh
# Installs cwmigrate from this unpacked artifact; needs no Swift and no network.
#   ./install.sh [--prefix DIR] [--check]
#     --prefix DIR   install under DIR (default /usr/local): DIR/bin/cwmigrate,
#                    DIR/share/cwmigrate/playbooks, the man page and shell completions
#     --check        only check the checksums and the shared libraries; install nothing
# Exit codes: 0 installed (or checked), 64 usage, 65 a file does not match SHA256SUMS,
# 66 run from outside the unpacked artifact, 69 a shared library is missing or too old (the
# packages that provide it are named), 70 installed but does not run, 73 cannot write.
set -eu

prefix=/usr/local
check_only=no
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "error: --prefix needs a directory" >&2; exit 64; }; prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --check) check_only=yes; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (usage: ./install.sh [--prefix DIR] [--check])" >&2; exit 64 ;;
  esac
done
case "$prefix" in /*) ;; *) prefix="$(pwd)/$prefix" ;; esac

here="$(cd "$(dirname "$0")" && pwd)"
binary="$here/bin/cwmigrate"
[ -f "$binary" ] || { echo "error: $binary is missing; run install.sh from the unpacked artifact" >&2; exit 66; }

# --- the files are the ones that were packed -------------------------------------------
if command -v sha256sum >/dev/null 2>&1; then
  if ! (cd "$here" && sha256sum -c SHA256SUMS >/dev/null 2>&1); then
    echo "error: files in $here do not match SHA256SUMS:" >&2
    (cd "$here" && sha256sum -c SHA256SUMS 2>&1 | grep -v ': OK$' | sed 's/^/  /' >&2) || true
    echo "hint: unpack the artifact again; check the .tar.gz against its .sha256 file" >&2
    exit 65
  fi
else
  echo "note: sha256sum is not installed; the files' checksums were not checked" >&2
fi

# --- the shared libraries the binary needs ------------------------------------------------
# The Swift runtime is linked in; these are the system's C libraries it loads.
packages_for() {
  case "$1" in
    libcurl.so.*) echo "libcurl4 (Ubuntu 24.04: libcurl4t64)|libcurl" ;;
    libarchive.so.*) echo "libarchive13 (Ubuntu 24.04: libarchive13t64)|libarchive" ;;
    libcrypto.so.*|libssl.so.*) echo "libssl3 (Ubuntu 24.04: libssl3t64)|openssl-libs" ;;
    libz.so.*) echo "zlib1g|zlib" ;;
    libisal.so.*) echo "libisal2|isa-l" ;;
    libyaml-0.so.*) echo "libyaml-0-2|libyaml" ;;
    libstdc++.so.*) echo "libstdc++6|libstdc++" ;;
    libgcc_s.so.*) echo "libgcc-s1|libgcc" ;;
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libutil.so.*|ld-linux*) echo "libc6|glibc" ;;
    *) echo "" ;;
  esac
}

# ldd, else the dynamic loader itself (what ldd runs), else a look in the usual directories.
list_libraries() {
  if command -v ldd >/dev/null 2>&1; then
    ldd "$binary" 2>&1 && return 0
  fi
  for loader in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1 /lib/ld-linux-x86-64.so.2; do
    if [ -x "$loader" ]; then "$loader" --list "$binary" 2>&1 && return 0; fi
  done
  [ -f "$here/share/cwmigrate/needed-libraries" ] || return 0
  while read -r soname; do
    found=no
    for dir in /lib /lib64 /usr/lib /usr/lib64 /lib/*-linux-gnu /usr/lib/*-linux-gnu /usr/local/lib; do
      [ -e "$dir/$soname" ] && { found=yes; echo "$soname => $dir/$soname"; break; }
    done
    [ "$found" = yes ] || echo "$soname => not found"
  done < "$here/share/cwmigrate/needed-libraries"
  return 0
}

# Libraries cwmigrate opens itself when a command first needs them (libarchive): ldd does not
# list them, so each is looked for where the loader looks, and what it loads is listed in turn.
find_library() {
  if command -v ldconfig >/dev/null 2>&1; then
    found="$(ldconfig -p 2>/dev/null | awk -v s="$1" '$1 == s { print $NF; exit }')"
    [ -n "$found" ] && { echo "$found"; return 0; }
  fi
  for dir in /lib /lib64 /usr/lib /usr/lib64 /lib/*-linux-gnu /usr/lib/*-linux-gnu /usr/local/lib; do
    [ -e "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}
list_opened_libraries() {
  [ -f "$here/share/cwmigrate/opened-libraries" ] || return 0
  while read -r soname; do
    if path="$(find_library "$soname")"; then
      echo "$soname => $path"
      if command -v ldd >/dev/null 2>&1; then ldd "$path" 2>&1 || true; fi
    else
      echo "$soname => not found"
    fi
  done < "$here/share/cwmigrate/opened-libraries"
}

libraries="$(list_libraries || true; list_opened_libraries || true)"
# ldd says "libX.so.1 => not found"; the loader stops at the first with "error while loading
# shared libraries: libX.so.1: cannot open shared object file".
missing="$(printf '%s\n' "$libraries" | sed -n \
  -e 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' \
  -e 's/.*error while loading shared libraries: \([^:]*\): cannot open.*/\1/p' | sort -u)"
too_old="$(printf '%s\n' "$libraries" | sed -n "s/.*version \`\([^']*\)' not found.*/\1/p" | sort -u)"
if [ -n "$missing" ]; then
  echo "error: cwmigrate needs shared libraries this host does not have:" >&2
  debian=""; rhel=""
  for soname in $missing; do
    pair="$(packages_for "$soname")"
    if [ -n "$pair" ]; then
      echo "  $soname" >&2
      debian="$debian, ${pair%%|*}"; rhel="$rhel ${pair#*|}"
    else
      echo "  $soname (needed by one of the libraries below)" >&2
    fi
  done
  if [ -n "$debian" ]; then
    echo "hint: Debian/Ubuntu: apt-get install ${debian#, }" >&2
    echo "hint: RHEL/Rocky/Alma/Fedora: dnf install${rhel}" >&2
  fi
  echo "hint: offline, copy the .deb/.rpm files from a machine with the same release (apt-get download / dnf download)" >&2
  exit 69
fi
if [ -n "$too_old" ]; then
  echo "error: this host's C libraries are older than cwmigrate needs (missing symbol versions: $(printf '%s\n' "$too_old" | tr '\n' ' '))" >&2
  echo "hint: build cwmigrate from source on this release, or use a host with glibc as new as Debian 12's" >&2
  exit 69
fi
if [ "$check_only" = yes ]; then
  echo "check: the files match SHA256SUMS and every shared library cwmigrate needs is present"
  exit 0
fi

# --- install ----------------------------------------------------------------------------
cannot_write() {
  echo "error: cannot write $1" >&2
  echo "hint: run as root, or choose a directory you own with --prefix" >&2
  exit 73
}
# Each file is copied beside its place and renamed over it, so a running cwmigrate or an
# interrupted install never sees half a file.
put() { # put MODE SOURCE DESTINATION
  { mkdir -p "$(dirname "$3")" && cp "$2" "$3.new.$$" && chmod "$1" "$3.new.$$" && mv -f "$3.new.$$" "$3"; } \
    2>/dev/null || { rm -f "$3.new.$$" 2>/dev/null; cannot_write "$3"; }
}
put 755 "$binary" "$prefix/bin/cwmigrate"
# The playbooks are replaced whole, so a playbook removed in this release does not linger.
share="$prefix/share/cwmigrate"
{ mkdir -p "$share" && rm -rf "$share/playbooks.new.$$" \
  && cp -R "$here/share/cwmigrate/playbooks" "$share/playbooks.new.$$"; } 2>/dev/null \
  || cannot_write "$share/playbooks"
if [ -d "$share/playbooks" ]; then
  mv "$share/playbooks" "$share/playbooks.old.$$" || cannot_write "$share/playbooks"
fi
mv "$share/playbooks.new.$$" "$share/playbooks" || cannot_write "$share/playbooks"
rm -rf "$share/playbooks.old.$$"
put 644 "$here/share/man/man1/cwmigrate.1" "$prefix/share/man/man1/cwmigrate.1"
put 644 "$here/share/bash-completion/completions/cwmigrate" "$prefix/share/bash-completion/completions/cwmigrate"
put 644 "$here/share/zsh/site-functions/_cwmigrate" "$prefix/share/zsh/site-functions/_cwmigrate"
put 644 "$here/share/fish/vendor_completions.d/cwmigrate.fish" "$prefix/share/fish/vendor_completions.d/cwmigrate.fish"

version="$("$prefix/bin/cwmigrate" --version)" || {
  echo "error: $prefix/bin/cwmigrate was installed but does not run" >&2; exit 70; }
echo "installed cwmigrate $version to $prefix/bin/cwmigrate (playbooks in $prefix/share/cwmigrate/playbooks)"
case ":${PATH:-}:" in *":$prefix/bin:"*) ;; *) echo "note: $prefix/bin is not on PATH" >&2 ;; esac
