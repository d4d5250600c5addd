#!/usr/bin/env bash
# `make release VERSION=x.y.z`: every artifact of a release, in dist/VERSION/ (ignored).
#
#   scripts/release.sh [--platforms "linux_amd64 …"] [--out DIR] [--build-only] [VERSION]
#
# The provider, laid out as the Terraform and OpenTofu registries expect:
#   terraform-provider-teleport_VERSION_OS_ARCH.zip     one per platform, holding
#                                                      terraform-provider-teleport_vVERSION(.exe)
#   terraform-provider-teleport_VERSION_manifest.json   the registry manifest (plugin protocol 6.0)
#   terraform-provider-teleport_VERSION_SHA256SUMS      the zips and the manifest
#   terraform-provider-teleport_VERSION_SHA256SUMS.sig  its detached GPG signature
# The agent, for Linux VMs (amd64, arm64):
#   joinery-agent_VERSION_linux_ARCH                    a static (musl) binary
#   joinery-agent_VERSION_ARCH.deb                      binary, systemd unit, example tbot.yaml,
#                                                      the teleport user, /opt/machine-id
#   joinery-agent_VERSION_SHA256SUMS(.sig)
# And signing-key.asc, the public half of the key that signed both SHA256SUMS.
#
# Platforms (OS_ARCH, default all): linux_amd64 linux_arm64 windows_amd64 darwin_amd64
# darwin_arm64; the agent is built for the linux ones. Every target is built with Zig as
# its C compiler and linker (scripts/install-cross.sh), Linux against musl so the
# binaries run on any distribution. VERSION defaults to the workspace's.
#
# macOS needs Apple's SDK: the provider links the Security and CoreFoundation frameworks
# (security-framework, through rustls-native-certs and rustls-platform-verifier, which
# read the system's trust store). Zig carries macOS's libSystem stubs but no frameworks,
# and the SDK comes only with Xcode, under Apple's licence, so nothing here downloads
# it. Set SDKROOT to a MacOSX.sdk (on a Mac: `xcrun --show-sdk-path`) to build darwin;
# without it, the default platforms leave darwin out and NOTE.txt in the release says so
# (naming darwin in --platforms without SDKROOT is an error).
#
# Signing: JOINERY_SIGNING_KEY holds an ASCII-armored secret key (JOINERY_SIGNING_PASSPHRASE
# its passphrase, if any), imported into a temporary GNUPGHOME, never into yours. Without
# it a throwaway key is generated, and NOT-FOR-PUBLISHING.txt says so.
#
# The binaries report VERSION and the commit (`--version`, the provider's log): this
# script sets JOINERY_VERSION and JOINERY_COMMIT for the build (version/build.rs), the
# commit marked -dirty when tracked files have uncommitted changes.
# --build-only builds the binaries and stops (make test builds the native release so).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
all_platforms="linux_amd64 linux_arm64 windows_amd64 darwin_amd64 darwin_arm64"
platforms="$all_platforms"
explicit=false
out=""
build_only=false
version=""
while [ $# -gt 0 ]; do
  case "$1" in
    --platforms) platforms="$2"; explicit=true; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build-only) build_only=true; shift ;;
    -*) echo "release.sh: unknown option $1" >&2; exit 2 ;;
    *) version="$1"; shift ;;
  esac
done
if [ -z "$version" ]; then
  version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$root/Cargo.toml")"
fi
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release.sh: VERSION must be x.y.z or x.y.z-pre (semantic versioning), not '$version'" >&2
  exit 2
fi
out="${out:-$root/dist/$version}"

# darwin without Apple's SDK (see above): left out of the defaults, refused when asked for.
note=""
if [ -z "${SDKROOT:-}" ]; then
  darwin="$(tr ' ' '\n' <<<"$platforms" | grep '^darwin_' | tr '\n' ' ' || true)"
  if [ -n "$darwin" ]; then
    why="linking for macOS needs Apple's SDK (the Security and CoreFoundation frameworks the provider links through security-framework); Zig has no frameworks and the SDK comes only with Xcode. Set SDKROOT to a MacOSX.sdk to build them."
    if $explicit; then
      echo "release.sh: cannot build ${darwin% }: $why" >&2
      exit 2
    fi
    platforms="$(tr ' ' '\n' <<<"$platforms" | grep -v '^darwin_' | tr '\n' ' ')"
    note="Not built: ${darwin% }. Why: $why"
    echo "WARNING: $note" >&2
  fi
fi

# OS_ARCH -> Rust target triple.
triple() {
  case "$1" in
    linux_amd64) echo x86_64-unknown-linux-musl ;;
    linux_arm64) echo aarch64-unknown-linux-musl ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    *) echo "release.sh: unknown platform '$1' (known: $all_platforms)" >&2; return 1 ;;
  esac
}
is_linux() { [[ "$1" == linux_* ]]; }
exe() { [[ "$1" == windows_* ]] && echo .exe || true; }

# A Debian tool this script needs, installed when missing (we run as root on CI).
need() {
  command -v "$1" >/dev/null && return
  echo "installing $2 (for $1)" >&2
  apt-get update -qq >&2 && apt-get install -y -qq "$2" >&2
}

commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then
  commit="$commit-dirty"
fi
export JOINERY_VERSION="$version" JOINERY_COMMIT="$commit"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}"

triples=()
for p in $platforms; do triples+=("$(triple "$p")"); done
zigbin="$("$root/scripts/install-cross.sh" "${triples[@]}")"
export PATH="$zigbin:$PATH"

# Build: the provider everywhere, the agent on Linux; one cargo run per target.
for p in $platforms; do
  t="$(triple "$p")"
  packages=(-p terraform-provider-teleport)
  if is_linux "$p"; then packages+=(-p joinery-agent); fi
  echo "==> building $version ($commit) for $p ($t)" >&2
  (cd "$root" && cargo zigbuild --release --locked --target "$t" "${packages[@]}" --bins)
done
if $build_only; then exit 0; fi

need gpg gnupg
need dpkg-deb dpkg
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A zip holding one executable, with a fixed timestamp (SOURCE_DATE_EPOCH) and its mode.
zip_one() {
  python3 - "$@" <<'PY'
import os, sys, time, zipfile
archive, source, name = sys.argv[1:4]
stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
info = zipfile.ZipInfo(name, date_time=stamp)
info.create_system = 3  # unix: the mode below is honoured on extraction
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(source, "rb") as f, zipfile.ZipFile(archive, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
}

# The agent's Debian package for one architecture.
deb() {
  local arch="$1" binary="$2" stage="$work/deb-$1"
  local deb_version="${version//-/\~}"  # a pre-release sorts before its release
  install -D -m 0755 "$binary" "$stage/usr/bin/joinery-agent"
  install -D -m 0644 "$root/packaging/deb/joinery-agent.service" "$stage/usr/lib/systemd/system/joinery-agent.service"
  install -D -m 0644 "$root/packaging/deb/tbot.yaml" "$stage/usr/share/doc/joinery-agent/examples/tbot.yaml"
  install -D -m 0644 "$root/packaging/deb/copyright" "$stage/usr/share/doc/joinery-agent/copyright"
  install -d -m 0700 "$stage/opt/machine-id"
  install -d -m 0755 "$stage/DEBIAN"
  for script in postinst prerm postrm; do
    install -m 0755 "$root/packaging/deb/$script" "$stage/DEBIAN/$script"
  done
  sed -e "s/@VERSION@/$deb_version/" -e "s/@ARCH@/$arch/" \
    -e "s/@INSTALLED_SIZE@/$(du -sk --exclude=DEBIAN "$stage" | cut -f1)/" \
    -e "s/@MAINTAINER@/${JOINERY_MAINTAINER:-Joinery maintainers <maintainers@joinery.invalid>}/" \
    "$root/packaging/deb/control" >"$stage/DEBIAN/control"
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/joinery-agent_${version}_${arch}.deb" >/dev/null
}

provider="terraform-provider-teleport_${version}"
agent="joinery-agent_${version}"
for p in $platforms; do
  t="$(triple "$p")"
  dir="$root/target/$t/release"
  zip_one "$out/${provider}_${p}.zip" "$dir/terraform-provider-teleport$(exe "$p")" \
    "terraform-provider-teleport_v${version}$(exe "$p")"
  if is_linux "$p"; then
    install -m 0755 "$dir/joinery-agent" "$out/${agent}_${p}"
    deb "${p#linux_}" "$dir/joinery-agent"
  fi
done
printf '{"version":1,"metadata":{"protocol_versions":["6.0"]}}\n' >"$out/${provider}_manifest.json"
(cd "$out" && sha256sum "${provider}"_*.zip "${provider}_manifest.json" >"${provider}_SHA256SUMS")
if compgen -G "$out/${agent}_*" >/dev/null; then
  (cd "$out" && sha256sum "${agent}"_* >"${agent}_SHA256SUMS")
fi

# Sign both SHA256SUMS with the release key, in a GNUPGHOME of our own.
export GNUPGHOME="$work/gnupg"
mkdir -m 0700 "$GNUPGHOME"
if [ -n "${JOINERY_SIGNING_KEY:-}" ]; then
  gpg --batch --quiet --import <<<"$JOINERY_SIGNING_KEY"
else
  echo "WARNING: JOINERY_SIGNING_KEY is not set: signing with a throwaway key (not for publishing)" >&2
  gpg --batch --quiet --passphrase '' --quick-gen-key "Joinery throwaway release key (not for publishing)" rsa3072 sign 1d
  echo "Signed with a throwaway key: set JOINERY_SIGNING_KEY to the release key and run again." \
    >"$out/NOT-FOR-PUBLISHING.txt"
fi
fingerprint="$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ {print $10; exit}')"
for sums in "$out"/*_SHA256SUMS; do
  gpg --batch --yes --quiet --pinentry-mode loopback --passphrase-fd 0 --local-user "$fingerprint" \
    --detach-sign --output "$sums.sig" "$sums" <<<"${JOINERY_SIGNING_PASSPHRASE:-}"
done
gpg --batch --armor --export "$fingerprint" >"$out/signing-key.asc"

if [ -n "$note" ]; then echo "$note" >"$out/NOTE.txt"; fi

echo "==> release $version ($commit) in $out, signed by key $fingerprint" >&2
(cd "$out" && ls -l | tail -n +2 | awk '{printf "    %10s  %s\n", $5, $NF}') >&2
