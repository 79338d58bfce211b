#!/usr/bin/env bash
# Installs the Debian packages Kontor needs, when missing. Run as root (or with sudo).
# Swift itself is expected on PATH (Swift 6.x toolchain).
set -euo pipefail
PKGS=(pkg-config libpq-dev postgresql postgresql-contrib postgresql-client libphonenumber-dev libgmime-3.0-dev libedit-dev netcat-openbsd libcurl4 python3 python3-psycopg2 openssl)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || $SUDO apt-get update
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian starts a system-wide cluster on 5432 when postgresql is installed; Kontor uses
# its own cluster (deploy/pg.sh), so the system one is left as it is.
