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

# The kernel names provision, vm-run and make check accept:
#   stock            Debian 12's kernel (bookworm linux-image-amd64, 6.1)
#   backports        bookworm-backports' linux-image-amd64 (6.12)
#   trixie           Debian 13's kernel (trixie linux-image-amd64, 6.12)
#   mainline         the newest kernel Debian carries prebuilt
#                    (trixie-backports' linux-image-amd64, 7.3)
#   bullseye         Debian 11's kernel (5.10), the oldest still deployed
#   debug            KUnit/KASAN/lockdep/DEBUG_VM kernel from bookworm's linux-source
#   debug-backports  the same from bookworm-backports' linux-source
#   newest-source    the newest linux-source Debian carries (sid), prepared for
#                    compiling the module (with KUnit, CONFIG_NO_PAGE_MAPCOUNT);
#                    it is not booted
#   debug-newest     the debug kernel built from that source, with
#                    CONFIG_NO_PAGE_MAPCOUNT (scripts/newest-source.config)
COWTRACE_KERNELS="stock backports trixie mainline bullseye debug debug-backports newest-source"
# debug-newest: the one booted kernel without per-page mapcounts; a build of
# 10-20 minutes, so only on request (KERNELS=debug-newest) for now.
COWTRACE_KERNELS_OPTIONAL="debug-newest"
# Kernels that boot in the guest (every one but newest-source).
COWTRACE_BOOTABLE="stock backports trixie mainline bullseye debug debug-backports debug-newest"

# Debian suite each kernel comes from.
kernel_suite() {
	case "$1" in
	stock | debug) echo bookworm ;;
	backports | debug-backports) echo bookworm-backports ;;
	trixie) echo trixie ;;
	mainline) echo trixie-backports ;;
	bullseye) echo bullseye ;;
	newest-source | debug-newest) echo sid ;;
	*) die "unknown kernel '$1' (known: $COWTRACE_KERNELS $COWTRACE_KERNELS_OPTIONAL)" ;;
	esac
}

# buildroot_suite KERNEL: the Debian release whose compiler and libc the
# kernel's headers need, when the host's (bookworm's) will not do: trixie's
# kbuild wants glibc 2.38 and gcc-14, bullseye's headers gcc-10.  Empty when
# the host builds it.
buildroot_suite() {
	case "$1" in
	trixie | mainline) echo trixie ;;
	bullseye) echo bullseye ;;
	esac
}

# in_buildroot ROOT CMD...: CMD run chrooted in the build root ROOT, with the
# cache and the checkout bind-mounted at their own paths (in a private mount
# namespace that ends with CMD), so every path means the same inside and out.
in_buildroot() {
	local root=$1
	shift
	COWTRACE_CACHE=$COWTRACE_CACHE COWTRACE_TOP=$COWTRACE_TOP \
		unshare --mount --propagation private -- /bin/sh -c '
		root=$1
		shift
		for d in "$COWTRACE_CACHE" "$COWTRACE_TOP" /proc /dev; do
			mkdir -p "$root$d" && mount --rbind "$d" "$root$d" || exit 125
		done
		exec chroot "$root" "$@"' sh "$root" "$@"
}

# kbuild_run CMD...: CMD where the loaded kernel env's headers can run (its
# BUILDROOT if it has one, else here).
kbuild_run() {
	if [ -n "${BUILDROOT:-}" ]; then
		in_buildroot "$BUILDROOT" "$@"
	else
		"$@"
	fi
}

# kernel_env NAME: the file provision writes for a kernel.  It sets
#   KVER      uname -r of the guest
#   VMLINUZ   the kernel image
#   MODDIR    a directory holding lib/modules/$KVER
#   KDIR      the build tree out-of-tree modules compile against
#   INITRD    the harness initramfs for this kernel
#   DEBS      (Debian kernels) the .debs that install it and its headers
#   BUILDROOT where its headers build modules (buildroot_suite), or empty
kernel_env() { printf '%s/kernels/%s.env\n' "$COWTRACE_CACHE" "$1"; }

# What a checkout writes under the cache belongs to that checkout: two clones
# at different commits must never build into, or load, each other's objects.
# The key is the checkout's path (a clone is one directory), named for people.
checkout_key() {
	printf '%s-%s\n' "$(basename "$COWTRACE_TOP" | tr -c 'A-Za-z0-9_.\n-' _)" \
		"$(printf '%s' "$COWTRACE_TOP" | sha256sum | cut -c1-12)"
}

# Where the module built for a kernel lands: outside the tree, so building for
# several kernels never mixes objects, and per checkout (checkout_key).
module_build_dir() { printf '%s/build/%s/%s\n' "$COWTRACE_CACHE" "$(checkout_key)" "$1"; }

# new_run_dir DIR: a fresh directory for one guest's logs under DIR, keeping
# the newest 30 there.  Guests started side by side prune at once: ls exits 2
# on an entry another vm-run removed after the glob listed it, which under
# set -e and pipefail would end this one silently, so that is not an error.
new_run_dir() {
	local dir=$1 run
	mkdir -p "$dir"
	run=$(mktemp -d "$dir/$(date +%Y%m%d-%H%M%S)-XXXX") || return 1
	{ ls -1dt "$dir"/* 2>/dev/null || :; } | tail -n +31 | xargs -r rm -rf
	printf '%s\n' "$run"
}

load_kernel_env() {
	local env
	env=$(kernel_env "$1")
	[ -r "$env" ] || return 1
	BUILDROOT=	# an env written before build roots existed has none
	# shellcheck disable=SC1090
	. "$env"
}

# papt SUITE ARGS...: apt-get with a private configuration that knows only
# Debian SUITE and only downloads.  Its lists and archives live in the cache;
# the host's sources, lists and dpkg status are never read or changed.
COWTRACE_MIRROR=${COWTRACE_MIRROR:-http://deb.debian.org/debian}
papt_dir() { printf '%s/apt/%s\n' "$COWTRACE_CACHE" "$1"; }
papt_opts() {
	local dir
	dir=$(papt_dir "$1")
	printf '%s\n' -q -o "Dir::Etc::SourceList=$dir/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$dir/lists" \
		-o "Dir::Cache=$dir/cache" -o Dir::State::status=/dev/null \
		-o APT::Sandbox::User=root
}
# Both take the suite's lock: scripts/provision fetches and builds in two
# lanes at once, and two lanes may want one suite (bookworm's kernel and its
# linux-source); apt-get would fail on a list directory another one holds.
papt() {
	local suite=$1 opts
	shift
	mapfile -t opts < <(papt_opts "$suite")
	mkdir -p "$(papt_dir "$suite")"
	flock "$(papt_dir "$suite")/.lock" apt-get "${opts[@]}" "$@"
}
papt_cache() {
	local suite=$1 opts
	shift
	mapfile -t opts < <(papt_opts "$suite")
	mkdir -p "$(papt_dir "$suite")"
	flock "$(papt_dir "$suite")/.lock" apt-cache "${opts[@]}" "$@"
}
papt_source() {
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$@"
}
# papt_refresh SUITE [force]: fetch the suite's package lists if missing,
# older than a day, or when forced (a download failed on a stale list).
papt_refresh() {
	local dir
	dir=$(papt_dir "$1")
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	{
		papt_source "$COWTRACE_MIRROR" "$1"
		# a stable release's kernel updates arrive through its security suite
		case "$1" in
		bookworm) papt_source "$COWTRACE_MIRROR-security" "$1-security" ;;
		esac
	} >"$dir/sources.list.$BASHPID"
	# renamed into place: the other provisioning lane's apt may be reading it
	mv "$dir/sources.list.$BASHPID" "$dir/sources.list"
	if [ -n "${2:-}" ] || [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1)" ]; then
		papt "$1" update >/dev/null 2>&1 || die "apt-get update for $1 failed"
	fi
}
# papt_download SUITE DEST PKG[=VERSION]...: download .debs into DEST.
papt_download() {
	local suite=$1 dest=$2
	shift 2
	mkdir -p "$dest"
	(cd "$dest" && papt "$suite" download "$@" >/dev/null 2>&1) && return 0
	papt_refresh "$suite" force
	(cd "$dest" && papt "$suite" download "$@" >/dev/null 2>&1) ||
		die "downloading $* from $suite failed"
}
# papt_depends SUITE PKG PATTERN: the first dependency of PKG matching PATTERN.
papt_depends() {
	papt_cache "$1" depends "$2" 2>/dev/null |
		awk -v re="$3" '$1 == "Depends:" && $2 ~ re && !d {d = $2} END {print d}'
}
papt_version() {
	papt_cache "$1" show "$2" 2>/dev/null | awk '/^Version:/ && !v {v = $2} END {print v}'
}

# missing_packages PKG...: those of PKG that are not installed
missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			printf '%s\n' "$p"
	done
}

# Install Debian packages that are missing; apt-get update only if needed.
# Under a lock in the cache: provisioning lanes running side by side would
# otherwise meet at dpkg's lock, which apt-get does not wait for.
apt_ensure() {
	local missing=() lock
	mapfile -t missing < <(missing_packages "$@")
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
	mkdir -p "$COWTRACE_CACHE"
	exec {lock}>"$COWTRACE_CACHE/.apt-install.lock"
	flock "$lock"
	mapfile -t missing < <(missing_packages "$@")	# the other lane's, now
	[ ${#missing[@]} -eq 0 ] && { exec {lock}>&-; return 0; }
	log "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null 2>&1; then
		apt-get update -q >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
	fi
	exec {lock}>&-
}

# native_blocker: why the module cannot run on this machine's kernel, as
# "cause: fix", or nothing when it can.
native_blocker() {
	local kver
	kver=$(uname -r)
	if [ ! -e /proc/modules ]; then
		echo "this kernel ($kver) cannot load modules (no CONFIG_MODULES)"
	elif [ "$(id -u)" != 0 ]; then
		echo "loading a module takes root: run it as root (sudo)"
	elif [ ! -d "/lib/modules/$kver/build" ]; then
		echo "this kernel can load modules, but its headers are not installed: apt install linux-headers-$kver"
	fi
}

# insmod_explained KO: insmod KO, and on failure say why in one line where
# the kernel's answer has a known cause.
insmod_explained() {
	local out
	out=$(insmod "$1" 2>&1) && return 0
	printf '%s\n' "$out" >&2
	case "$out" in
	*"Key was rejected"* | *"Required key not available"* | *"Operation not permitted"*)
		dmesg 2>/dev/null | tail -n 5 | grep -qiE 'lockdown|rejected|signature|key' &&
			log "the kernel loads only signed modules (Secure Boot, lockdown or module.sig_enforce=1): sign $1 with DKMS's MOK key ('make dkms', then once 'mokutil --import /var/lib/dkms/mok.pub' and reboot), or with /lib/modules/$(uname -r)/build/scripts/sign-file sha256 KEY.priv KEY.der $1" ;;
	esac
	return 1
}

# with_module CMD...: run CMD (from the top of the tree) where the module is
# loaded: on this machine's kernel if it can load modules, else in a guest
# booting Debian's stock kernel (scripts/vm-run), provisioned on first use.
# COWTRACE_NATIVE=only refuses the guest: it fails with the reason instead.
with_module() {
	local loaded=0 status=0 why
	why=$(native_blocker)
	if [ -z "$why" ]; then
		log "modules load here: running on $(uname -r)"
		make -s -C "$COWTRACE_TOP" all
		if [ ! -e /sys/kernel/debug/cowtrace/ctl ]; then
			mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
			if insmod_explained "$COWTRACE_TOP/module/cowtrace.ko"; then
				loaded=1
			else
				why="the kernel refused module/cowtrace.ko"
			fi
		fi
	fi
	if [ -z "$why" ]; then
		(cd "$COWTRACE_TOP" && "$@") || status=$?
		[ "$loaded" = 1 ] && rmmod cowtrace
		return "$status"
	fi
	[ "${COWTRACE_NATIVE:-}" = only ] && die "$why (COWTRACE_NATIVE=only: no QEMU guest)"
	log "$why; meanwhile, running in a QEMU guest (Debian's stock kernel)"
	"$COWTRACE_TOP/scripts/provision" stock
	make -s -C "$COWTRACE_TOP/tools"
	"$COWTRACE_TOP/scripts/build-module" stock >/dev/null
	(cd "$COWTRACE_TOP" && scripts/vm-run --kernel stock --insmod --mem 3072 --timeout 1800 -- "$@")
}
