#!/usr/bin/env bash
# Vendor the front-end assets from the npm registry into civicmark/static/vendor.
# The product runs on intranets with no internet, so nothing is ever loaded from a CDN:
# run this script when a version below changes, and commit what it writes.
set -euo pipefail
HTMX_VERSION=2.0.9        # htmx 4.x changed hx-headers inheritance; stay on 2.0.x (see docs/adr)
BOOTSTRAP_VERSION=5.3.8
ECHARTS_VERSION=6.1.0
# Noto Sans SC for the PDF documents (SIL Open Font License), regular and bold: the whole font
# (Google Fonts' static TTFs, which this npm package carries), because a person's or a
# community's name may hold any CJK ideograph, not only the 7,946 of a web "simplified" subset.
# It covers every assigned character of CJK Unified Ideographs and Extension A (checked below).
# Converted to WOFF (zlib; fpdf2 reads it without an extra library): 6 MB a weight instead of 10.
# fpdf2 still embeds only the glyphs each document uses. Fonts live beside the code, not under
# static: only the PDF writer reads them.
NOTO_VERSION=0.4.3
PYTHON=${PYTHON:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python}

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/civicmark/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@$HTMX_VERSION" "bootstrap@$BOOTSTRAP_VERSION" \
  "echarts@$ECHARTS_VERSION" "@expo-google-fonts/noto-sans-sc@$NOTO_VERSION" >/dev/null
mkdir -p htmx bootstrap echarts noto
tar -xzf htmx.org-"$HTMX_VERSION".tgz -C htmx
tar -xzf bootstrap-"$BOOTSTRAP_VERSION".tgz -C bootstrap
tar -xzf echarts-"$ECHARTS_VERSION".tgz -C echarts
tar -xzf expo-google-fonts-noto-sans-sc-"$NOTO_VERSION".tgz -C noto
rm -rf "$dest/htmx" "$dest/bootstrap" "$dest/echarts"
mkdir -p "$dest/htmx" "$dest/bootstrap/css" "$dest/bootstrap/js" "$dest/echarts"
cp echarts/package/dist/echarts.min.js echarts/package/LICENSE echarts/package/NOTICE "$dest/echarts/"
fonts="$root/civicmark/fonts"
rm -rf "$fonts" && mkdir -p "$fonts"
"$PYTHON" - noto/package "$fonts" <<'PY'
import sys
from fontTools.ttLib import TTFont

src, dest = sys.argv[1:]
for weight, name in (("400", "400Regular"), ("700", "700Bold")):
    font = TTFont(f"{src}/{name}/NotoSansSC_{name}.ttf")
    cmap = font.getBestCmap()
    # Unicode 13 and 14 added U+4DB6-4DBF and U+9FF0-9FFF, which no Noto Sans SC release draws yet.
    lacking = [hex(c) for c in (*range(0x3400, 0x4DB6), *range(0x4E00, 0x9FF0)) if c not in cmap]
    if lacking:
        sys.exit(f"{name} lacks {len(lacking)} CJK ideographs, e.g. {lacking[:5]}")
    font.flavor = "woff"
    font.save(f"{dest}/noto-sans-sc-{weight}.woff")
PY
cp noto/package/LICENSE_FONT "$fonts/LICENSE-OFL"
cp htmx/package/dist/htmx.min.js htmx/package/LICENSE "$dest/htmx/"
cp bootstrap/package/dist/css/bootstrap.min.css "$dest/bootstrap/css/"
cp bootstrap/package/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/js/"
cp bootstrap/package/LICENSE "$dest/bootstrap/"
# Source maps are not shipped; drop the comments that point at them, or the hashed-name
# static storage refuses to collect files that reference a missing map.
sed -i '/sourceMappingURL=/d' "$dest"/bootstrap/css/*.css "$dest"/bootstrap/js/*.js "$dest"/htmx/*.js \
  "$dest"/echarts/*.js
printf 'htmx.org %s\nbootstrap %s\necharts %s\n@expo-google-fonts/noto-sans-sc %s (civicmark/fonts)\n' \
  "$HTMX_VERSION" "$BOOTSTRAP_VERSION" "$ECHARTS_VERSION" "$NOTO_VERSION" > "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
