#!/bin/bash
# Online verify: blocks corrupted behind hablk's back on beta's backing disk (and one that
# straddles two blocks) are found exactly, while alpha keeps writing elsewhere, and resynced
# from alpha; afterwards both devices are identical, and after down no page is left (checked
# by the common ending of every scenario).
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
# 5 blocks: 1000, 1001, 20000 (2 KiB into it... a 4 KiB write at 20000.5 touches 20000, 20001),
# 30000 - corrupted directly on beta's /dev/vdb, hablk does not know
vm_run beta "
	set -e
	for b in 1000 1001 30000; do
		head -c 4096 /dev/urandom | dd of=/dev/vdb bs=4096 seek=\$b conv=notrunc oflag=direct status=none
	done
	head -c 4096 /dev/urandom | dd of=/dev/vdb bs=2048 seek=40001 conv=notrunc oflag=direct status=none"
[[ $(dev_sum alpha) != "$(dev_sum beta)" ]] || fail "corruption did not change beta's device"
pass "5 blocks corrupted behind hablk's back on beta"

if adm beta verify "$RES" 2>/dev/null; then fail "verify accepted on the secondary"; fi
bg_start alpha writes "dd if=/dev/urandom of=$DEV bs=64k count=200 seek=1000 oflag=direct status=none"
adm alpha verify "$RES"
bg_wait writes 120 || fail "writes during verify failed"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
vm_console alpha | grep -q 'online verify done: 5 blocks (20 KiB) differ' ||
	fail "verify did not find exactly 5 blocks: $(vm_console alpha | grep 'verify done')"
pass "verify found exactly the 5 corrupted blocks while alpha wrote"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "resync repaired beta: whole device identical"
adm alpha verify "$RES"
adm alpha wait-sync "$RES" --timeout 120
[[ $(vm_console alpha | grep -c 'online verify done: 0 blocks') == 1 ]] || fail "second verify found differences"
pass "a second verify finds nothing"
# That the chunks of both verifies gave their pages back (a verify chunk's pages once
# leaked) is checked by the common ending (hablk_end): down, no object left, rmmod.
