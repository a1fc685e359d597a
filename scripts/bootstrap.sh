#!/usr/bin/env bash
# Install everything Xietong needs on a fresh Debian machine, from lock files only:
# Debian packages (PostgreSQL 15, Chromium, gettext, CJK fonts, Java 17 for Spark), uv, the locked Python
# environment (uv.lock), the locked static assets (package-lock.json), compiled translations.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(postgresql-15 chromium gettext fonts-noto-cjk openjdk-17-jre-headless)
missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "==> uv"
  python3 -m pip install -q --disable-pip-version-check "uv>=0.5,<1"
fi
UV="uv"; command -v uv >/dev/null 2>&1 || UV="python3 -m uv"

echo "==> Python packages (uv.lock)"
$UV sync --frozen --quiet --extra spark

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> static assets (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "==> translations"
.venv/bin/xietong compilemessages -l en -v 0 --ignore ".venv/*" --ignore "node_modules/*"
