#!/bin/bash
# (b) DISCARD and WRITE_ZEROES on the primary (blkdiscard, blkdiscard -z) read back as zeroes
# on both nodes; the data around them is untouched and identical.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
vm_run alpha "
	set -e
	head -c 33554432 /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of=$DEV bs=1M oflag=direct status=none
	blkdiscard -o 4194304 -l 8388608 $DEV
	blkdiscard -z -o 16777216 -l 8388608 $DEV
	sync"
pass "random data written, 8 MiB discarded and 8 MiB zeroed on alpha"

# on each node: the two ranges are zero, the rest is the pattern
check_ranges() {
	vm_run "$1" "
		set -e
		dd if=$DEV bs=1M count=32 iflag=direct status=none >/tmp/now
		cmp -n 8388608 -i 4194304:0 /tmp/now /dev/zero
		cmp -n 8388608 -i 16777216:0 /tmp/now /dev/zero
		cmp -n 4194304 /tmp/now /tmp/pattern 2>/dev/null || [ ! -e /tmp/pattern ]
		md5sum </tmp/now | cut -d' ' -f1"
}
a=$(check_ranges alpha)
b=$(check_ranges beta)
assert_eq "$b" "$a" "discarded and zeroed ranges read as zeroes on beta, rest identical"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
hablk_check_logs alpha beta
pass "kernel logs clean"
