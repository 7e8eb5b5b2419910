#!/usr/bin/env bash
# The one command that runs every Hub test: installs what is missing (Node.js, a Docker engine,
# Chromium from Debian's packages), builds, runs the .NET tests (including the production topology
# on real RabbitMQ and PostgreSQL servers in containers), the relay's unit tests, the black-box
# walkthrough with the real @microsoft/signalr client, and the /demo and /dashboard pages in a real browser.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "==> Installing $* from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

if ! have dotnet; then
  echo "Hub needs the .NET 10 SDK (see global.json): https://dotnet.microsoft.com/download" >&2
  exit 1
fi
have node && have npm || apt_install nodejs npm

# The relay's build, the dashboard and the browser tests need Node 20.11 or newer (node --test's
# timeouts, fetch with AbortSignal.timeout); Debian 12's own nodejs is 18 and cannot run them.
node_version="$(node -p 'process.versions.node')"
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 11) ? 0 : 1)'; then
  echo "Hub's front-end and browser tests need Node.js 20.11 or newer; this machine has $node_version ($(command -v node))." >&2
  echo "Install a current Node.js (a newer distribution package, or nvm) so that 'node' on PATH is >= 20.11." >&2
  exit 1
fi

# The production-topology tests run RabbitMQ and PostgreSQL in containers (Testcontainers), unless
# HUB_TEST_RABBITMQ_URL and HUB_TEST_POSTGRES name existing servers.
if [ -z "${HUB_TEST_RABBITMQ_URL:-}" ] || [ -z "${HUB_TEST_POSTGRES:-}" ]; then
  if ! docker info >/dev/null 2>&1; then
    have dockerd || apt_install docker.io
    if [ -z "${DOCKER_HOST:-}" ]; then
      # No service manager in a container or CI sandbox: start the engine ourselves, as root. A socket
      # or pid file left by an engine that was killed (a sandbox ends its processes) is stale.
      sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
      echo "==> Starting dockerd (log: /var/log/hub-test-dockerd.log)"
      $sudo rm -f /var/run/docker.sock /var/run/docker.pid
      $sudo sh -c 'setsid nohup dockerd >/var/log/hub-test-dockerd.log 2>&1 &'
      for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    fi
    docker info >/dev/null 2>&1 || {
      echo "No Docker engine is reachable (see /var/log/hub-test-dockerd.log, or 'docker info'). If you are not root, add yourself to the docker group." >&2
      exit 1
    }
  fi
  # Where the official rabbitmq / postgres images cannot be pulled, images built from Debian's
  # packages; Testcontainers' resource reaper (its own image) cannot be pulled there either.
  if ! docker image inspect rabbitmq:3-management postgres:16 >/dev/null 2>&1 \
    && ! { docker pull -q rabbitmq:3-management && docker pull -q postgres:16; } >/dev/null 2>&1; then
    have debootstrap || docker image inspect hub-test/debian:bookworm >/dev/null 2>&1 || apt_install debootstrap
    tests/containers/build-images.sh
    export TESTCONTAINERS_RYUK_DISABLED=true
  fi
  # At the end, however it ends, the server containers whose test process is gone (the fixtures remove
  # their own; this catches a killed run). Containers of test runs still going on this machine stay.
  remove_orphaned_containers() {
    docker ps -a --filter label=hub-test.owner-pid --format '{{.ID}} {{.Label "hub-test.owner-pid"}}' 2>/dev/null |
      while read -r id pid; do [ -d "/proc/$pid" ] || docker rm -f -v "$id" >/dev/null 2>&1 || true; done
  }
  trap remove_orphaned_containers EXIT
fi

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "==> Building"
dotnet build Hub.sln -c Debug

echo "==> .NET tests"
fault_figures=tests/Hub.Tests/bin/Debug/net10.0/fault-recovery.txt
rm -f "$fault_figures"
dotnet test Hub.sln -c Debug --no-build
echo "==> Recovery times measured by the fault tests (figures, not assertions)"
cat "$fault_figures"

echo "==> Browser relay unit tests"
(cd src/relay && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck --silent && npm test)

echo "==> Dashboard unit tests"
(cd src/dashboard && npm ci --no-audit --no-fund --loglevel=error && npm test)

echo "==> Walkthrough with the real @microsoft/signalr client"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && npm test)

echo "==> Browser tests: /demo and /dashboard in Debian's Chromium"
[ -x /usr/bin/chromium ] || apt_install chromium
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && npm test)

echo "==> Benchmark, short mode (prints figures; fails on lost events or a crash, never on timings)"
dotnet run -c Release --project src/Hub.Bench -- --short

echo "==> All tests passed"
