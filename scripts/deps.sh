#!/usr/bin/env bash
# Installs the Debian packages bpflua needs, only those missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config lua5.4 liblua5.4-dev lua-lpeg lua-lpeg-dev
      lua-busted libelf-dev libbpf-dev libcmocka-dev luarocks clang llvm bpftool
      libedit-dev libclang-rt-14-dev iproute2 zlib1g-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
