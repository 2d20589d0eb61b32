#!/usr/bin/env bash
# Install Debian's nginx for the test of the production front (deploy/nginx) when it is missing.
# Only the binary is used: the test runs its own nginx with its own configuration, as a normal user.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing nginx from Debian packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
# The package starts a server on port 80; the tests need only the binary.
$SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
test -x /usr/sbin/nginx
