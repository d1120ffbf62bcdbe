#!/usr/bin/env bash
# Vendor the front-end assets from the npm registry into civicmark/static/vendor.
# The product runs on intranets with no internet, so nothing is ever loaded from a CDN:
# run this script when a version below changes, and commit what it writes.
set -euo pipefail
HTMX_VERSION=2.0.9        # htmx 4.x changed hx-headers inheritance; stay on 2.0.x (see docs/adr)
BOOTSTRAP_VERSION=5.3.8
ECHARTS_VERSION=6.1.0
# Noto Sans SC for the PDF documents (SIL Open Font License): the simplified-Chinese subset, which
# also holds ASCII, regular and bold. Fonts live beside the code, not under static: only the PDF
# writer reads them.
NOTO_VERSION=5.3.0

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/civicmark/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "bootstrap@$BOOTSTRAP_VERSION" \
  "echarts@$ECHARTS_VERSION" "@fontsource/noto-sans-sc@$NOTO_VERSION" >/dev/null
mkdir -p htmx bootstrap echarts noto
tar -xzf htmx.org-"$HTMX_VERSION".tgz -C htmx
tar -xzf bootstrap-"$BOOTSTRAP_VERSION".tgz -C bootstrap
tar -xzf echarts-"$ECHARTS_VERSION".tgz -C echarts
tar -xzf fontsource-noto-sans-sc-"$NOTO_VERSION".tgz -C noto
rm -rf "$dest/htmx" "$dest/bootstrap" "$dest/echarts"
mkdir -p "$dest/htmx" "$dest/bootstrap/css" "$dest/bootstrap/js" "$dest/echarts"
cp echarts/package/dist/echarts.min.js echarts/package/LICENSE echarts/package/NOTICE "$dest/echarts/"
fonts="$root/civicmark/fonts"
rm -rf "$fonts" && mkdir -p "$fonts"
for weight in 400 700; do
  cp "noto/package/files/noto-sans-sc-chinese-simplified-$weight-normal.woff" "$fonts/"
done
cp noto/package/LICENSE "$fonts/LICENSE-OFL"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$dest/htmx/"
cp bootstrap/package/dist/css/bootstrap.min.css "$dest/bootstrap/css/"
cp bootstrap/package/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/js/"
cp bootstrap/package/LICENSE "$dest/bootstrap/"
# Source maps are not shipped; drop the comments that point at them, or the hashed-name
# static storage refuses to collect files that reference a missing map.
sed -i '/sourceMappingURL=/d' "$dest"/bootstrap/css/*.css "$dest"/bootstrap/js/*.js "$dest"/htmx/*.js \
  "$dest"/echarts/*.js
printf 'htmx.org %s\nbootstrap %s\necharts %s\n@fontsource/noto-sans-sc %s (civicmark/fonts)\n' \
  "$HTMX_VERSION" "$BOOTSTRAP_VERSION" "$ECHARTS_VERSION" "$NOTO_VERSION" > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
