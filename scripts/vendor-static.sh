#!/usr/bin/env bash
# Vendor the front-end assets from the npm registry into civicmark/static/vendor.
# The product runs on intranets with no internet, so nothing is ever loaded from a CDN:
# run this script when a version below changes, and commit what it writes.
set -euo pipefail
HTMX_VERSION=2.0.9        # htmx 4.x changed hx-headers inheritance; stay on 2.0.x (see docs/adr)
BOOTSTRAP_VERSION=5.3.8

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/civicmark/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "bootstrap@$BOOTSTRAP_VERSION" >/dev/null
mkdir -p htmx bootstrap
tar -xzf htmx.org-"$HTMX_VERSION".tgz -C htmx
tar -xzf bootstrap-"$BOOTSTRAP_VERSION".tgz -C bootstrap
rm -rf "$dest/htmx" "$dest/bootstrap"
mkdir -p "$dest/htmx" "$dest/bootstrap/css" "$dest/bootstrap/js"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$dest/htmx/"
cp bootstrap/package/dist/css/bootstrap.min.css "$dest/bootstrap/css/"
cp bootstrap/package/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/js/"
cp bootstrap/package/LICENSE "$dest/bootstrap/"
# Source maps are not shipped; drop the comments that point at them, or the hashed-name
# static storage refuses to collect files that reference a missing map.
sed -i '/sourceMappingURL=/d' "$dest"/bootstrap/css/*.css "$dest"/bootstrap/js/*.js "$dest"/htmx/*.js
printf 'htmx.org %s\nbootstrap %s\n' "$HTMX_VERSION" "$BOOTSTRAP_VERSION" > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
