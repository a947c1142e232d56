# SPDX-License-Identifier: GPL-2.0
# Shared by the provisioning and VM scripts: where things are cached, and how
# a kernel name (stock, debug, ...) maps to the files that boot and build it.
# Source it; it defines functions and variables only.

COWTRACE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Expensive things (kernel packages, built kernels) live outside the checkout,
# keyed by their inputs, so a fresh clone reuses them and `git clean` keeps them.
COWTRACE_CACHE=${COWTRACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cowtrace}

log() { printf 'cowtrace: %s\n' "$*" >&2; }
die() { printf 'cowtrace: error: %s\n' "$*" >&2; exit 1; }

# The kernel names vm-run and make check accept.
COWTRACE_KERNELS="stock debug"

# kernel_env NAME: the file provision writes for a kernel.  It sets
#   KVER      uname -r of the guest
#   VMLINUZ   the kernel image
#   MODDIR    a directory holding lib/modules/$KVER
#   KDIR      the build tree out-of-tree modules compile against
#   INITRD    the harness initramfs for this kernel
kernel_env() { printf '%s/kernels/%s.env\n' "$COWTRACE_CACHE" "$1"; }

# Where the module built for a kernel lands (outside the tree, so building for
# several kernels never mixes objects).
module_build_dir() { printf '%s/build/%s\n' "$COWTRACE_CACHE" "$1"; }

load_kernel_env() {
	local env
	env=$(kernel_env "$1")
	[ -r "$env" ] || return 1
	# shellcheck disable=SC1090
	. "$env"
}

# Install Debian packages that are missing; apt-get update only if needed.
apt_ensure() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
	log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null 2>&1; then
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
	fi
}
