#!/bin/bash
# checksum-resync yes: beta is invalidated, so the whole 128 MiB device is out of sync, but
# its blocks are almost all equal to alpha's. The resync compares digests first: only the
# 3 blocks corrupted behind hablk's back travel (interface counters: a few MiB at most,
# not 128), and the devices end identical.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 128
hablk_config "checksum-resync yes"
hablk_pair_up 120

vm_run beta "
	set -e
	for b in 7 5000 20000; do
		head -c 4096 /dev/urandom | dd of=/dev/vdb bs=4096 seek=\$b conv=notrunc oflag=direct status=none
	done"
tx() { vm alpha cat /sys/class/net/eth0/statistics/tx_bytes; }
before=$(tx)
adm beta invalidate "$RES"
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
moved=$(($(tx) - before))
vm_note "checksum-resync of a 128 MiB device moved $((moved >> 10)) KiB"
vm_console alpha | grep -q 'checksum-resync: 12 KiB differ' ||
	fail "expected 3 differing blocks: $(vm_console alpha | grep 'checksum-resync')"
((moved < 8 << 20)) || fail "moved $moved bytes for 3 differing blocks"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "devices identical"
pass "checksum-resync sent only the 3 differing blocks ($((moved >> 10)) KiB on the link)"
