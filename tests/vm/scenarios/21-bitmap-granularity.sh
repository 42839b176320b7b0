#!/bin/bash
# Bitmap granularity: metadata made with --bitmap-granularity 64K. While disconnected alpha
# writes 17 small blocks (one straddling two granules); the status counts 18 granules out of
# sync and the resync moves those 1152 KiB (interface counters), not 4 KiB pieces or the whole
# device. Verify of a block corrupted behind hablk's back repairs its granule. A peer whose
# metadata has another granularity is refused, with the reason in the status.
source "$(dirname "$0")/../scenario.sh"

MD_OPTS="--bitmap-granularity 64K"
hablk_pair_synced 256
assert_eq "$(st alpha bitmap_granularity_kib)" 64 "alpha's bitmap has 64 KiB per bit"
assert_eq "$(st beta bitmap_granularity_kib)" 64 "beta's bitmap has 64 KiB per bit"

vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
# 16 blocks of 4 KiB, 4 MiB apart and 8 KiB into a granule, and one 4 KiB write 2 KiB
# before the 100 MiB mark: it touches the granules on both sides of it
vm_run alpha "
	set -e
	head -c 65536 /dev/urandom >/tmp/r
	for i in \$(seq 0 15); do
		dd if=/tmp/r of=$DEV bs=4096 count=1 seek=\$((i * 4194304 + 8192)) \
			oflag=direct,seek_bytes conv=notrunc status=none
	done
	dd if=/tmp/r of=$DEV bs=4096 count=1 seek=\$((104857600 - 2048)) \
		oflag=direct,seek_bytes conv=notrunc status=none"
assert_eq "$(st alpha peer.out_of_sync_kib)" 1152 "alpha counts 18 granules (1152 KiB) out of sync"
pass "17 small writes while disconnected"

tx() { vm alpha cat /sys/class/net/eth0/statistics/tx_bytes; }
before=$(tx)
vm alpha ip link set eth0 up
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
moved=$(($(tx) - before))
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "nothing out of sync"
ratio=$(python3 -c "print(f'{$moved / (1152 << 10):.2f}')")
vm_note "resync moved $moved bytes for 1152 KiB out of sync: ${ratio}x"
((moved > 1152 << 10)) || fail "only $moved bytes crossed the link: not whole granules"
((moved < 1728 << 10)) || fail "$moved bytes crossed the link for 1152 KiB out of sync (${ratio}x)"
pass "resync moved ${ratio}x the 18 granules"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical after the resync"

# one 4 KiB block corrupted on beta's disk: verify finds the block, resyncs its granule
vm_run beta "head -c 4096 /dev/urandom |
	dd of=/dev/vdb bs=4096 seek=5000 conv=notrunc oflag=direct status=none"
adm alpha verify "$RES"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
vm_console alpha | grep -q 'online verify done: 1 blocks (4 KiB) differ' ||
	fail "verify did not find exactly 1 block: $(vm_console alpha | grep 'verify done')"
vm_console alpha | grep -q 'sync to peer started, 64 KiB out of sync' ||
	fail "verify's resync was not one granule: $(vm_console alpha | grep 'sync to peer started' | tail -1)"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "verify repaired beta: whole device identical"

# beta's metadata recreated with the default 4 KiB: the pair must not exchange bitmaps
adm beta down "$RES"
adm beta create-md "$RES" --force >/dev/null
adm beta up "$RES"
for n in alpha beta; do
	wait_st $n peer.connection standalone 30
	[[ $(st $n peer.last_error) == *granularity* ]] || fail "$n: last error '$(st $n peer.last_error)'"
done
assert_eq "$(st beta bitmap_granularity_kib)" 4 "beta's new metadata has 4 KiB per bit"
pass "a peer with another granularity is refused on both nodes"
if out=$(adm alpha create-md "$RES" --bitmap-granularity 48K 2>&1); then
	fail "create-md accepted a granularity that is not a power of two"
fi
[[ $out == *"not a power of two from 4K to 256K"* ]] || fail "create-md 48K: '$out'"
pass "create-md refuses a 48K granularity"
hablk_check_logs alpha beta
pass "kernel logs clean"
