#!/usr/bin/env bash
# Vendor what the browser tests (only the tests) inject into pages, from the npm registry, into
# tests/browser/vendor: axe-core, the accessibility checker. Committed, so a clean clone runs the
# tests with no network; run this script when the version below changes, and commit what it writes.
set -euo pipefail
AXE_VERSION=4.14.1

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/tests/browser/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "axe-core@$AXE_VERSION" >/dev/null
mkdir -p axe && tar -xzf axe-core-"$AXE_VERSION".tgz -C axe
rm -rf "$dest" && mkdir -p "$dest"
cp axe/package/axe.min.js "$dest/"
cp axe/package/LICENSE "$dest/LICENSE-axe-core"
printf 'axe-core %s (MPL-2.0)\n' "$AXE_VERSION" > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
