#!/usr/bin/env bash
# Builds the test servers' images from Debian's packages, for machines that cannot pull the official
# rabbitmq / postgres images (the test fixtures use those when they can). Each image is built once
# and kept by tag; a changed Dockerfile gives a new tag (its content hash), so it is rebuilt.
# Needs a running Docker engine; the base image needs root (debootstrap) the first time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

base=hub-test/debian:bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

if ! has_image "$base"; then
  echo "==> Building $base with debootstrap from $mirror"
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  root="$(mktemp -d /var/tmp/hub-test-bookworm.XXXXXX)"
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  # On a Debian 12 host, the image gets the host's sources (its mirror, security updates) as well.
  if grep -qs '^VERSION_CODENAME=bookworm$' /etc/os-release && compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    rm -f "$root/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
  fi
  tar -C "$root" -c . | docker import - "$base" >/dev/null
fi

for server in rabbitmq postgres; do
  tag="hub-test/$server:$(cat "$server"/* | sha256sum | cut -c1-12)"
  if ! has_image "$tag"; then
    echo "==> Building $tag"
    docker build -q -t "$tag" "$server" >/dev/null
  fi
  # The fixtures look for this tag (see tests/Hub.Tests/Fixtures/ContainerImages.cs).
  docker tag "$tag" "hub-test/$server:local"
done
