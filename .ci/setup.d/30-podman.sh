#!/usr/bin/env bash
# Podman serving the Docker Engine API on a unix socket, for the orchestrator's container executor,
# plus a local busybox image (no registry is reachable here). Idempotent; fast when already done.
# Tests find the socket through MYRMEX_PODMAN_SOCKET (default below) and CONTAINERS_CONF.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$here/.ci/apt-install" podman runc busybox-static

state="${MYRMEX_PODMAN_DIR:-/run/myrmex-podman}"
socket="${MYRMEX_PODMAN_SOCKET:-$state/podman.sock}"
conf="${CONTAINERS_CONF:-$state/containers.conf}"
mkdir -p "$state" "$(dirname "$socket")"

# This sandbox needs runc, cgroupfs and ulimits no higher than the process's own limits.
want='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
'
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$(printf '%s' "$want")" ]; then
  printf '%s' "$want" > "$conf"
  echo "podman: wrote $conf"
fi
export CONTAINERS_CONF="$conf"

answering() { curl -sf --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; }
if answering; then
  echo "podman: API answering on $socket"
else
  rm -f "$socket"
  # From /: conmon needs a working directory that outlives this checkout (a CI clone may be deleted).
  (cd / && setsid nohup podman system service --time=0 "unix://$socket" >"$state/service.log" 2>&1 &)
  for _ in $(seq 1 60); do answering && break; sleep 0.5; done
  answering || { echo "podman: API did not answer on $socket within 30s; see $state/service.log" >&2; tail -20 "$state/service.log" >&2; exit 1; }
  echo "podman: API started on $socket"
fi

# A busybox image built from the static binary: the tests' base image (localhost/myrmex-busybox:latest).
image="localhost/myrmex-busybox:latest"
if podman image exists "$image"; then
  echo "podman: image $image present"
else
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/work"
  cp /bin/busybox "$rootfs/bin/busybox"
  for tool in $("$rootfs/bin/busybox" --list); do [ "$tool" = busybox ] || ln -s busybox "$rootfs/bin/$tool"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - "$image" >/dev/null
  echo "podman: built $image from busybox-static"
fi
