# shellcheck shell=bash
# Builds the lab's images from this machine's own binaries. Sourced by scripts/lab.
#   lab_image_key SERVICE        prints a key that changes when the image's inputs change
#   lab_image_rootfs SERVICE DIR assembles the root file system of SERVICE in DIR
#   lab_image_changes SERVICE    prints the `docker import --change` lines of SERVICE
# Every rootfs is busybox plus the service's programs and exactly the libraries `ldd`
# lists for them, so images stay small (vfs copies an image for each container).

# shellcheck disable=SC2034  # read by scripts/lab
LAB_IMAGE_SERVICES=(postgresql system-control-server service-manager ingress admin-web-app)
LAB_PG=/usr/lib/postgresql/15
LAB_CWSIM="${LAB_CWSIM:-}"

_lab_image_inputs() {
  case "$1" in
    postgresql) echo "$LAB_PG/bin/postgres" "$LAB_PG/bin/initdb" ;;
    system-control-server) echo "$LAB_CWSIM" "$LAB_PG/bin/pg_dump" /usr/bin/tar ;;
    ingress) echo /usr/sbin/nginx /usr/bin/openssl ;;
    *) ;;
  esac
}

lab_image_key() {
  local service="$1" here
  here="$(dirname "${BASH_SOURCE[0]}")"
  {
    cat "$here/images.sh" "$here/entrypoints/$service.sh"
    # shellcheck disable=SC2046
    sha256sum /bin/busybox $(_lab_image_inputs "$service")
  } | sha256sum | cut -c1-16
}

# Copies files (following symlinks) to the same paths under ROOT, then every library
# `ldd` lists for the dynamic ones, and the dynamic loader.
_lab_copy_with_libraries() {
  cp -L --parents "${@:2}" "$1/"
  _lab_copy_libraries "$@"
}

_lab_copy_libraries() {
  local root="$1"; shift
  local libs
  libs="$(ldd "$@" 2>/dev/null | grep -o '/[^ ]*' | grep -v ':$' | sort -u || true)"
  [ -z "$libs" ] && return 0
  # shellcheck disable=SC2086
  cp -L --parents $libs "$root/"
}

_lab_base() {
  local root="$1"; shift
  mkdir -p "$root"/{bin,etc,tmp,usr/bin,data}
  chmod 755 "$root"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in sh cat sleep tar su chown chmod mkdir rm mv cp ls id date printf echo test \
      grep sed cut sort find sha256sum env kill wc head tail touch true false ln gzip; do
    ln -sf busybox "$root/bin/$applet"
  done
  ln -sf ../../bin/busybox "$root/usr/bin/env"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'postgres:x:101:101:PostgreSQL:/var/lib/postgresql:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'postgres:x:101:' 'nogroup:x:65534:' >"$root/etc/group"
  mkdir -p "$root/usr/share/zoneinfo/Etc"
  cp -L /usr/share/zoneinfo/UTC "$root/usr/share/zoneinfo/UTC"
  cp -L /usr/share/zoneinfo/Etc/UTC "$root/usr/share/zoneinfo/Etc/UTC"
  ln -sf /usr/share/zoneinfo/UTC "$root/etc/localtime"
}

lab_image_rootfs() {
  local service="$1" root="$2" here
  here="$(dirname "${BASH_SOURCE[0]}")"
  _lab_base "$root"
  cp "$here/entrypoints/$service.sh" "$root/entrypoint.sh"
  chmod 755 "$root/entrypoint.sh"
  case "$service" in
    postgresql)
      local libs=()
      mapfile -t libs < <(find "$LAB_PG/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*')
      _lab_copy_with_libraries "$root" "$LAB_PG"/bin/* "${libs[@]}"
      mkdir -p "$root/usr/share/postgresql"
      cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/"
      mkdir -p "$root/var/lib/postgresql/data"
      ;;
    system-control-server)
      [ -x "$LAB_CWSIM" ] || { echo "error: cwsim binary missing ($LAB_CWSIM)" >&2; return 1; }
      _lab_copy_with_libraries "$root" "$LAB_PG/bin/psql" "$LAB_PG/bin/pg_dump" \
        "$LAB_PG/bin/pg_restore" "$LAB_PG/bin/pg_isready"
      # cwsim unpacks uploads with `env tar -xf`, which busybox cannot do for .tgz or .tar.zst,
      # and busybox's env would run its own tar applet whatever PATH says: GNU env and tar.
      rm -f "$root/usr/bin/env"
      _lab_copy_with_libraries "$root" /usr/bin/env /usr/bin/tar /usr/bin/gzip /usr/bin/zstd
      mkdir -p "$root/usr/local/bin"
      cp "$LAB_CWSIM" "$root/usr/local/bin/cwsim"
      _lab_copy_libraries "$root" "$LAB_CWSIM"
      # cwsim writes its backups with libarchive, which it opens on first use (dlopen), so
      # ldd does not list it: the soname CArchive opens, and what that library loads.
      local archive_soname archive_path
      archive_soname="$(sed -n 's/.*define CWM_LIBARCHIVE_SONAME "\(.*\)"/\1/p' \
        "$here/../../Sources/CArchive/include/CArchive.h")"
      archive_path="$(ldconfig -p | awk -v s="$archive_soname" '$1 == s { print $NF; exit }')"
      [ -n "$archive_path" ] || { echo "error: $archive_soname, which cwsim opens, is not installed" >&2; return 1; }
      _lab_copy_with_libraries "$root" "$archive_path"
      ;;
    ingress)
      _lab_copy_with_libraries "$root" /usr/sbin/nginx /usr/bin/openssl
      cp -L --parents /usr/lib/ssl/openssl.cnf "$root/"
      ;;
    service-manager | admin-web-app) ;;
    *) echo "error: no such lab image: $service" >&2; return 1 ;;
  esac
}

lab_image_changes() {
  echo 'ENTRYPOINT ["/entrypoint.sh"]'
  echo "ENV PATH=$LAB_PG/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC"
}
