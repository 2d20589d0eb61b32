#!/usr/bin/env bash
# Install the MariaDB server from Debian's packages when it is missing (the tests start their own).
set -euo pipefail
for bin in mariadbd /usr/sbin/mariadbd /usr/sbin/mysqld; do
  if command -v "$bin" >/dev/null 2>&1; then exit 0; fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing mariadb-server from Debian packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server mariadb-client >/dev/null
command -v mariadbd >/dev/null 2>&1 || test -x /usr/sbin/mariadbd
