#!/usr/bin/env bash
# The Debian packages the platform itself needs at run time (not Python packages: those go in .venv):
# nginx for the gateway; Pango, HarfBuzz's subsetter and one CJK font for the printable 推荐表 (WeasyPrint).
# Installs the missing ones when it can (root with apt-get), else prints the command and goes on: `make run`
# then still starts, and warns about what will not work. With --strict (make test) it fails instead.
set -euo pipefail
strict=0
[ "${1:-}" = "--strict" ] && strict=1

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]}" >&2
  echo "  install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit $strict
fi
