# hablk top-level build: the kernel module (Kbuild) and the userspace tools.
#   make            module against KDIR (default: newest installed Debian 6.1 headers) + userspace
#   make check      unit tests, then the VM scenarios (tests/vm/run)
KVER ?= $(shell ls -1d /lib/modules/6.1.*/build 2>/dev/null | sort -V | tail -n1 | cut -d/ -f4)
KDIR ?= /lib/modules/$(KVER)/build

all: module userspace

BUILD := $(CURDIR)/build/$(KVER)

# Each kernel gets its own build directory, so 6.1 and 6.12 builds coexist:
# build/<kver>/hablk.ko
module:
	@test -d $(KDIR) || { echo "no kernel headers at $(KDIR) (set KVER= or KDIR=)"; exit 2; }
	mkdir -p $(BUILD)
	cp -a Kbuild $(BUILD)/ && rm -rf $(BUILD)/kernel && cp -a kernel $(BUILD)/
	$(MAKE) -C $(KDIR) M=$(BUILD) W=1 modules

module-clean:
	rm -rf build

userspace:
	$(MAKE) -C userspace

unit:
	$(MAKE) -C tests/unit check

check: all unit
	tests/vm/run

sparse: module
	$(MAKE) -C $(KDIR) M=$(BUILD) C=2 modules

# checkpatch.pl from a kernel tree (Debian: linux-source-6.1, scripts/ extracted)
CHECKPATCH ?= $(firstword $(wildcard /opt/linux-src/*/scripts/checkpatch.pl /usr/src/linux-source-*/scripts/checkpatch.pl))
checkpatch:
	@test -n "$(CHECKPATCH)" || { echo "no checkpatch.pl (set CHECKPATCH=)"; exit 2; }
	$(CHECKPATCH) --no-tree -f --terse kernel/*.c kernel/*.h kernel/uapi/linux/*.h

clean: module-clean
	$(MAKE) -C userspace clean
	$(MAKE) -C tests/unit clean

.PHONY: all module module-clean userspace unit check sparse checkpatch clean
