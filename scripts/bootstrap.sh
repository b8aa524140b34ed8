#!/bin/sh
# Installs what uOS needs, idempotently, on Debian 12 with Node 20: the Debian packages (QEMU and the
# native toolchain), pnpm, the workspace's dependencies, then builds the native platform and the
# TypeScript packages. Each step is skipped when already done.
set -eu
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
# chromium drives the browser tests (through playwright-core, never a downloaded browser); prometheus brings
# promtool, which checks Acorn's /metrics; hping3 and python3-scapy send the attack tests' packets; wrk, ab
# (apache2-utils) and python3 load the HTTP server.
APT_PACKAGES="qemu-system-x86 qemu-utils gcc nasm binutils musl-dev clang lld wasi-libc libclang-rt-14-dev-wasm32 iproute2 iputils-ping curl dnsmasq-base dnsutils tcpdump hping3 python3-scapy wrk apache2-utils python3 chromium prometheus"

say() { printf 'uos-bootstrap: %s\n' "$*"; }

missing=""
for package in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages:$missing (this script installs them on Debian/Ubuntu only; install them yourself)"
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "need root (or sudo) to install:$missing"; exit 1; }
    sudo=sudo
  fi
  say "installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node $node_major is too old: uOS needs Node 20 or later"
  exit 1
fi

pnpm_works() { command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; }
if ! pnpm_works; then
  say "installing pnpm $PNPM_VERSION with npm"
  if ! npm install --global --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1; then
    # No write access to npm's global prefix: install under the user's home instead.
    npm install --global --silent --prefix "$HOME/.local" "pnpm@$PNPM_VERSION" >/dev/null
    PATH="$HOME/.local/bin:$PATH"
    export PATH
    say "pnpm is in $HOME/.local/bin; add it to PATH to run pnpm yourself"
  fi
fi

pnpm install --frozen-lockfile --prefer-offline --reporter=silent
node scripts/build-stale.mjs
say "ready"
