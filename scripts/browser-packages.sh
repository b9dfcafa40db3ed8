#!/usr/bin/env bash
# The Debian packages the portal's browser tests (tests/browser) need, beyond scripts/system-packages.sh (whose
# fonts-noto-cjk renders the portal's Chinese): Chromium, which Playwright drives at /usr/bin/chromium.
# Playwright's own browser download is never used. Idempotent: installs only what is missing (as root with
# apt-get), else prints the command and fails, since the browser tests cannot run without it.
set -euo pipefail

# --- the browser tests' Debian packages (one per line) ---
BROWSER_PACKAGES=(
  chromium
)
# ---

missing=()
for pkg in "${BROWSER_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing packages for the browser tests: ${missing[*]}" >&2
  echo "  install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
