#!/bin/bash
# An interrupted sync resumes where it stopped: only what is still out of sync crosses the
# link, not the whole device. Four interruptions of a sync alpha -> beta, each checked by
# the devices' contents: the link cut (alpha writes alone meanwhile), a clean down of the
# target, a crash of the source (all three resume); a crash of the target (a full sync:
# chunks it acked may have been lost with its disk cache).
source "$(dirname "$0")/../scenario.sh"

hablk_boot 256
# alpha's data is random, so that a block the sync skips shows in the checksums
vm_run alpha "dd if=/dev/urandom of=/dev/vdb bs=1M count=250 oflag=direct status=none"

tx() { vm alpha cat /sys/class/net/eth0/statistics/tx_bytes; }
# count NODE TEXT: how many kernel log lines hold TEXT
count() { vm "$1" dmesg | grep -cF -- "$2" || true; }
RESUMES="the interrupted sync resumes"

# pause_past PERCENT: once alpha's sync to beta has done PERCENT, pause-sync: the sync is
# stopped part-way (checked: between PERCENT and 90 %).
pause_past() {
	local v='' end=$((SECONDS + 120))
	while ((SECONDS < end)); do
		adm alpha status -j "$RES" | python3 -c 'import json, sys
p = json.load(sys.stdin)["resources"][0]["peers"][0]
sys.exit(p["replication"] != "sync-source" or p["sync_done_percent"] < float(sys.argv[1]))' "$1" &&
			break
		sleep 0.1
	done
	adm alpha pause-sync "$RES"
	v=$(st alpha peer.sync_done_percent)
	python3 -c "import sys; sys.exit(not $1 <= float(sys.argv[1]) < 90)" "$v" ||
		fail "sync at $v % when paused, not between $1 and 90 %"
	vm_note "sync paused at $v %"
}

# resync_moved: link bytes alpha sends from now until both nodes are in sync.
resync_moved() {
	local before
	before=$(tx)
	adm alpha resume-sync "$RES"
	adm alpha wait-sync "$RES" --timeout 300
	adm beta wait-sync "$RES" --timeout 60
	echo $(($(tx) - before))
}

# A fresh, zeroed disk for beta: every block differs from alpha's; the next sync is full.
beta_fresh() {
	adm beta down "$RES"
	vm_run beta "dd if=/dev/zero of=/dev/vdb bs=1M count=256 oflag=direct status=none"
	adm beta create-md "$RES" --force >/dev/null
	adm beta up "$RES"
	wait_st beta peer.replication sync-target 60
}

# --- 1. the link cut during the initial full sync; alpha writes 8 MiB alone ---------------
hablk_up alpha beta
adm alpha wait-connect "$RES" --timeout 60
adm alpha primary "$RES" --force
pause_past 10
vm alpha ip link set eth0 down
wait_st alpha peer.connection connecting 20
left=$(($(st alpha peer.out_of_sync_kib) * 1024))
vm_run alpha "dd if=/dev/urandom of=$DEV bs=1M count=8 seek=40 oflag=direct status=none"
vm alpha ip link set eth0 up
adm alpha wait-connect "$RES" --timeout 60
moved=$(resync_moved)
vm_note "link cut: $left bytes were left to sync, $moved crossed the link"
((moved < left + (8 << 20) + left / 10 + (2 << 20))) ||
	fail "$moved bytes crossed the link for $left left and 8 MiB written"
assert_eq "$(count beta "$RESUMES")" 1 "beta resumed the sync (rule 16)"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "identical after the resumed sync"
pass "sync interrupted by a link cut resumed: $moved bytes for $left left"

# --- 2. a clean down of the target during a full sync -------------------------------------
beta_fresh
pause_past 10
left=$(($(st alpha peer.out_of_sync_kib) * 1024))
adm beta down "$RES"
assert_eq "$(count beta "down during a sync from the peer: it will resume")" 1 \
	"beta's down kept the sync's generation"
adm beta up "$RES"
adm alpha wait-connect "$RES" --timeout 60
moved=$(resync_moved)
vm_note "target down and up: $left bytes were left to sync, $moved crossed the link"
((moved < left + left / 10 + (2 << 20))) || fail "$moved bytes crossed the link for $left left"
assert_eq "$(count beta "$RESUMES")" 2 "beta resumed the sync after its down"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "identical after the resumed sync"
pass "sync interrupted by the target's down resumed: $moved bytes for $left left"

# --- 3. the target crashes during a full sync: it starts over ----------------------------
beta_fresh
pause_past 10
vm_kill beta
wait_st alpha peer.connection connecting 20
vm_restart beta
hablk_load beta
adm beta up "$RES"
adm alpha wait-connect "$RES" --timeout 60
moved=$(resync_moved)
assert_eq "$(count beta "connected to alpha: target-full (rule 1)")" 1 \
	"the crashed target gets a full sync"
((moved > 250 << 20)) || fail "only $moved bytes crossed the link for a full sync"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "identical after the full sync"
pass "a target that crashed during the sync got a full sync"

# --- 4. the source crashes during a full sync: its bitmap on disk covers the rest --------
# (a paused sync writes its progress to disk; so does a running one, every 5 s)
beta_fresh
pause_past 10
left=$(($(st alpha peer.out_of_sync_kib) * 1024))
alpha_sum=$(dev_sum alpha)
vm_kill alpha
wait_st beta peer.connection connecting 20
vm_restart alpha
hablk_load alpha
before=$(tx)
adm alpha up "$RES"
adm alpha wait-connect "$RES" --timeout 60
adm alpha wait-sync "$RES" --timeout 300
adm beta wait-sync "$RES" --timeout 60
moved=$(($(tx) - before))
vm_note "source crash: $left bytes were left to sync, $moved crossed the link"
assert_eq "$(count alpha "connected to beta: source (rule 17)")" 1 \
	"alpha resumed as source after its crash"
# its write-intent map adds the extents alpha wrote in part 1 (at most 3 x 4 MiB)
((moved < left + left / 10 + (16 << 20))) || fail "$moved bytes crossed the link for $left left"
assert_eq "$(dev_sum alpha)" "$alpha_sum" "alpha's data survived its crash"
assert_eq "$(dev_sum beta)" "$alpha_sum" "identical after the sync resumed from alpha's bitmap"
pass "a source that crashed during the sync resumed it from its bitmap: $moved bytes for $left left"

hablk_check_logs alpha beta
pass "kernel logs clean"
