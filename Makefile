# SPDX-License-Identifier: GPL-2.0
#
#   make              module (against KDIR) and the cowtrace tool
#   make check        every test: host unit tests, module build, guest suites
#   make kunit        the KUnit suites in the debug kernel
#   make demo         watch COW happen (native if modules load, else in QEMU)
#   make clean
#
# KDIR defaults to the running kernel's build tree; set it to build for
# another kernel, e.g. make KDIR=/usr/src/linux-headers-6.1.0-56-amd64

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all module tools check kunit demo clean

all: module tools

module:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules; \
	else \
		echo "cowtrace: no kernel build tree at $(KDIR): skipping the module."; \
		echo "cowtrace: install linux-headers-$$(uname -r), or set KDIR=..."; \
		echo "cowtrace: (make check and make demo build it for their own guest kernels)"; \
	fi

tools:
	$(MAKE) -C tools

check:
	scripts/check

kunit:
	scripts/kunit

demo:
	scripts/demo

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; fi
	rm -f module/*.o module/*.ko module/*.mod* module/.*.cmd module/modules.order \
		module/Module.symvers
	$(MAKE) -C tools clean
