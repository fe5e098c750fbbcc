#!/usr/bin/env bash
# Fetches the Rego engines the conformance tests run the bundle in, pinned by version and hash.
#
# OPA's own Go engine comes from the wheel opa-golib-python-bindings 0.4.4 (OPA v1.20.2 built as a
# Go c-shared library, with a ctypes wrapper). Its metadata says Python >= 3.14, but the wrapper is
# plain ctypes and runs on 3.11, so pip cannot install it here: we download that exact wheel for
# 3.14, check its sha256, and unpack it into .engines/opa (ignored by git). The tests and
# `policy decide --engine opa` put that folder on sys.path (or set POLICY_OPA_PATH to another one).
# Microsoft's rego-cpp (regopy) and regorus are ordinary pinned test extras in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
OPA_WHEEL=opa_golib_python_bindings-0.4.4-py3-none-manylinux_2_34_x86_64.whl
OPA_SHA256=d411c901e14b8c7c3023e23e4a944f4cf429c1d31baf80e959e57d11efbfd24a
DEST=.engines/opa
if [ -f "$DEST/opa_bindings/libopabridge.so" ] && [ "$(cat "$DEST/SHA256" 2>/dev/null)" = "$OPA_SHA256" ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --python-version 3.14 --only-binary=:all: \
  --platform manylinux_2_34_x86_64 -d "$tmp" "opa-golib-python-bindings==0.4.4" 2>&1 | grep -v '^WARNING' || true
echo "$OPA_SHA256  $tmp/$OPA_WHEEL" | sha256sum --check --quiet
rm -rf "$DEST"
mkdir -p "$DEST"
python3 -m zipfile -e "$tmp/$OPA_WHEEL" "$DEST"
echo "$OPA_SHA256" > "$DEST/SHA256"
