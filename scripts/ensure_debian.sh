#!/usr/bin/env bash
# `ensure_debian.sh BINARY PACKAGE...`: install Debian packages when BINARY is missing. The tests
# only need the binaries (they start their own MariaDB and nginx; Playwright drives Chromium).
set -euo pipefail
binary=$1
shift
if [ -x "$binary" ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing $* from Debian packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
test -x "$binary"
