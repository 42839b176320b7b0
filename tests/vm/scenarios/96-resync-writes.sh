#!/bin/bash
# Writes during resync in both directions end with identical disks: a bitmap resync
# alpha -> beta (paused, written over, resumed) and, after invalidate on alpha, a full
# sync beta -> alpha while beta writes; fio verifies every block it wrote.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
FIO="fio --name=v --filename=$DEV --direct=1 --ioengine=libaio --bs=4k --size=48M \
	--rw=randwrite --iodepth=8 --verify=crc32c --randrepeat=1 --output-format=terse"

# alpha -> beta: 32 MiB out of sync, the sync held paused while fio writes over it
vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=32 oflag=direct status=none"
adm alpha pause-sync "$RES"
vm alpha ip link set eth0 up
wait_st alpha peer.replication paused 30
assert_eq "$(st beta peer.replication)" sync-target "beta waits as sync target"
# fio covers 16..64 MiB: its replicated writes make those blocks in sync, 0..16 MiB stay out
vm_run alpha "$FIO --offset=16M --do_verify=0 >/shared/fio1.log"
assert_eq "$(st alpha peer.out_of_sync_kib)" 16384 "replicated writes took their blocks out of the resync"
adm alpha resume-sync "$RES"
adm alpha wait-sync "$RES" --timeout 120
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "identical after the paused resync with writes"
pass "resync alpha -> beta, paused and written over, converged"

# beta -> alpha: alpha throws its data away; beta writes during the full sync
adm alpha secondary "$RES"
adm beta primary "$RES"
adm alpha invalidate "$RES"
wait_st beta peer.replication sync-source 30
vm_run beta "$FIO --do_verify=0 >/shared/fio2.log"
adm beta wait-sync "$RES" --timeout 300
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum alpha)" "$(dev_sum beta)" "identical after the full sync with writes"
vm_run beta "$FIO --verify_only >/shared/fio2-verify.log"
pass "full sync beta -> alpha with writes converged; fio verifies every block"
if adm beta invalidate "$RES" 2>/dev/null; then fail "invalidate accepted on a primary"; fi
pass "invalidate refused on the primary"
