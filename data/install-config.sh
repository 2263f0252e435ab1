#!/bin/sh
# A `meson install` step (data/meson.build). Seeds the config dir on the first
# install and never overwrites what the admin has edited there. On a live
# install (no DESTDIR, as root, systemd present) also creates the camrelay user
# and applies the config's owner and mode, as a package's postinst would.
#   $1 default config (built)  $2 config dir  $3 pkgdatadir (where the default is kept)  $4 demo camera file
#   $5 sysusers.d file  $6 tmpfiles.d file (install paths; empty: systemd files not installed)
set -eu
config=$1 confdir=$2 demo=$4 sysusers=${5:-} tmpfiles=${6:-}
dest=${DESTDIR:-}

# (meson shows an install script's output only when it fails: nothing to print.)
# The pipelines dir is the admin's: the demo camera goes in only when the dir is
# new, so a deleted demo.conf does not come back with the next install.
if [ ! -d "$dest$confdir/pipelines" ]; then
  install -d -m 0755 "$dest$confdir/pipelines"
  install -m 0644 "$demo" "$dest$confdir/pipelines/demo.conf"
fi
# An existing config is the admin's too; this version's default is $pkgdatadir/camrelay.ini.
if [ ! -e "$dest$confdir/camrelay.ini" ]; then
  # 0644 while it holds no users; tmpfiles.d/camrelay.conf makes it root:camrelay 0640.
  install -d -m 0755 "$dest$confdir"
  install -m 0644 "$config" "$dest$confdir/camrelay.ini"
fi

[ -z "$dest" ] && [ -n "$sysusers" ] && [ "$(id -u)" -eq 0 ] || exit 0
if command -v systemd-sysusers >/dev/null; then systemd-sysusers "$sysusers"; fi
if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create "$tmpfiles"; fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
