# SPDX-License-Identifier: GPL-2.0
#
#   make              module (against KDIR) and the cowtrace tool
#   make check        every test: host unit tests, module build, guest suites
#   make kunit        the KUnit suites in the debug kernel
#   make fuzz         the coverage-guided (KCOV) ioctl fuzzer, long, on a debug
#                     kernel: FUZZ_CALLS, FUZZ_KERNEL, FUZZ_SEED, FUZZ_TIMEOUT
#   make bench        the benchmarks; writes docs/benchmarks.md
#   make demo         watch COW happen (native if modules load, else in QEMU)
#   make walkthrough-python, walkthrough-prefork, walkthrough-spawn
#                     the walkthroughs on real programs (docs/walkthroughs.md)
#   make install      the module (for KDIR), the tool, its man page, the UAPI header
#   make dkms         register the module with DKMS: rebuilt for every kernel
#   make clean
#
# KDIR defaults to the running kernel's build tree; set it to build for
# another kernel, e.g. make KDIR=/usr/src/linux-headers-6.1.0-56-amd64

KDIR ?= /lib/modules/$(shell uname -r)/build
PREFIX ?= /usr/local
# DESTDIR stages an install (packaging, tests); depmod then runs on the stage
DESTDIR ?=
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC := $(DESTDIR)/usr/src/cowtrace-$(VERSION)

.PHONY: all module tools check kunit fuzz bench demo install install-module dkms clean \
	walkthrough-python walkthrough-prefork walkthrough-spawn

all: module tools

module:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules; \
	else \
		echo "cowtrace: no kernel build tree at $(KDIR): skipping the module."; \
		echo "cowtrace: install linux-headers-$$(uname -r), or set KDIR=..."; \
		echo "cowtrace: (make check and make demo build it for their own guest kernels)"; \
	fi

# what a user runs: the tool and the demo's workload.  The tests and benchmarks
# (make -C tools, which builds everything) are for make check and make bench.
tools:
	$(MAKE) -C tools cowtrace workload

check:
	scripts/check

kunit:
	scripts/kunit

# make check runs fuzz_kcov at its default call count; this runs it longer.
# The guest's time follows the calls: the fuzzer's own alarm allows 50 ms a
# call (TCG with KASAN takes about 10), and the guest more, boot included.
FUZZ_KERNEL ?= debug
FUZZ_CALLS ?= 50000
FUZZ_SEED ?=
FUZZ_TIMEOUT ?= $(shell echo $$((900 + $(FUZZ_CALLS) / 8)))

fuzz:
	$(MAKE) -C tools tests
	scripts/build-module $(FUZZ_KERNEL) >/dev/null
	scripts/vm-run --kernel $(FUZZ_KERNEL) --timeout $(FUZZ_TIMEOUT) --insmod --fail-on-splat -- \
		env COWTRACE_FUZZ_CALLS=$(FUZZ_CALLS) $(if $(FUZZ_SEED),COWTRACE_FUZZ_SEED=$(FUZZ_SEED)) \
		tools/tests/bin/fuzz_kcov

bench:
	scripts/bench

demo:
	scripts/demo

# explicit targets: make applies no pattern rule to a .PHONY target
walkthrough-python walkthrough-prefork walkthrough-spawn:
	scripts/walkthrough $(@:walkthrough-%=%)

install: tools install-module
	install -D -m 0755 tools/cowtrace $(DESTDIR)$(PREFIX)/bin/cowtrace
	install -D -m 0644 tools/cowtrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/cowtrace.1
	install -D -m 0644 include/uapi/linux/cowtrace.h \
		$(DESTDIR)$(PREFIX)/include/linux/cowtrace.h

# Distribution headers carry no System.map, so Kbuild skips depmod: run it
# here.  Sign only where the tree has a signing key (DKMS signs on its own).
install-module: module
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" INSTALL_MOD_DIR=extra \
			$(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=) \
			$(if $(DESTDIR),INSTALL_MOD_PATH="$(DESTDIR)") modules_install && \
		depmod $(if $(DESTDIR),-b "$(DESTDIR)") \
			"$$(modinfo -F vermagic module/cowtrace.ko | cut -d" " -f1)"; \
	fi

dkms:
	rm -rf "$(DKMS_SRC)"
	mkdir -p "$(DKMS_SRC)"
	cp -r Kbuild dkms.conf module include "$(DKMS_SRC)/"
	dkms add cowtrace/$(VERSION)
	dkms install cowtrace/$(VERSION)

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; fi
	rm -f module/*.o module/*.ko module/*.mod* module/.*.cmd module/modules.order \
		module/Module.symvers
	$(MAKE) -C tools clean
