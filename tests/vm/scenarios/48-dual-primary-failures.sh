#!/bin/bash
# Failures of two primaries (allow-two-primaries yes, hablkd's lock manager, the arbiter gamma),
# each node writing its own region with tests/vm/ackw (acknowledged writes logged on the host):
# * the link between alpha and beta cut (both still reach gamma): the arbiter's vote keeps the
#   first primary (alpha) writing; beta freezes, is outdated, its frozen writes fail and hablkd
#   makes it secondary; alpha then writes where beta held the locks; no acknowledged write of
#   either node is missing; healed, beta resyncs, the disks are identical, both primary again;
# * beta's VM killed while both write: alpha goes on, takes beta's extents (the time from the
#   kill until a write there completes is measured: well inside OCFS2's 60 s o2hb timeout);
#   beta's acknowledged writes are on alpha; beta returns as a secondary and resyncs.
# No split-brain in either.
source "$(dirname "$0")/../scenario.sh"
ACKW="$VM_SRC/tests/vm/ackw"
A_FIRST=4096 B_FIRST=12288 NBLK=6144	# alpha writes MiB 16..40, beta MiB 48..72 (4 KiB blocks)

# ackw_on NODE FIRST LOG: ackw writing 4 KiB blocks of NODE's device at random in
# FIRST..FIRST+NBLK, each appended to /shared/LOG once acknowledged.
ackw_on() { bg_start "$1" "ackw-$1" "$ACKW write $DEV $2 $NBLK 1000000 /shared/$3"; }

# acked LOG: how many writes LOG holds.
acked() { { wc -l <"$VM_SHARED/$1"; } 2>/dev/null || echo 0; }

# wait_acked LOG N [SECONDS]: until LOG holds at least N writes.
wait_acked() {
	local end=$((SECONDS + ${3:-120}))
	until (($(acked "$1") >= $2)); do
		((SECONDS < end)) || fail "$1: fewer than $2 acknowledged writes after ${3:-120} s"
		sleep 0.2
	done
}

no_split_brain() {
	local n
	for n in alpha beta; do
		if vm_console "$n" | grep -q 'split-brain'; then fail "$n logged a split-brain"; fi
	done
}

hablk_dual_synced 256 "auto-promote yes"
assert_eq "$(st alpha peer.role)" primary "two primaries"

# --- the link between the two primaries cut while both write ---
ackw_on alpha $A_FIRST acked-alpha.log
ackw_on beta $B_FIRST acked-beta.log
wait_acked acked-alpha.log 200
wait_acked acked-beta.log 200
vm_run alpha "ip link set eth0 down; ip link set eth1 down"
wait_log gamma "vote granted to node 0; node 1 is outdated" 60
bg_wait ackw-beta 60 && fail "beta's writer went on after the cut"
cut=$(acked acked-beta.log)
wait_st beta disk outdated 30
wait_st beta role secondary 30
assert_eq "$(st alpha role)" primary "alpha is still primary"
n=$(acked acked-alpha.log)
wait_acked acked-alpha.log $((n + 200)) 60
pass "cut: alpha keeps writing; beta froze after $cut acknowledged writes, is outdated and secondary"
sleep 2	# a write beta wrongly acknowledged late would be logged by now
assert_eq "$(acked acked-beta.log)" "$cut" "beta acknowledged nothing after its writer failed"
vm alpha "$ACKW" check "$DEV" /shared/acked-beta.log
pass "alpha holds every write beta acknowledged"
# beta's extents: alpha took them once beta was outdated
vm_run alpha "timeout 30 dd if=/dev/urandom of=$DEV bs=1M count=4 seek=100 oflag=direct status=none" ||
	fail "alpha could not write beyond its own region after the cut"
vm_run alpha "timeout 30 dd if=/dev/urandom of=$DEV bs=4k count=1 seek=$((B_FIRST + NBLK)) \
	oflag=direct status=none" || fail "alpha could not write next to beta's region"
pass "alpha writes the extents beta held"

vm_run alpha "ip link set eth0 up; ip link set eth1 up"
adm beta wait-sync "$RES" --timeout 300
adm alpha wait-sync "$RES" --timeout 60
vm_run alpha "pkill -x ackw; while pgrep -x ackw >/dev/null; do sleep 0.1; done"
bg_wait ackw-alpha 30 || true	# killed
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "healed: beta resynced, the devices identical"
vm beta "$ACKW" check "$DEV" /shared/acked-alpha.log
vm beta "$ACKW" check "$DEV" /shared/acked-beta.log
no_split_brain
wait_log gamma "node 1 is up to date again" 30
adm beta primary "$RES"
pass "healed: every acknowledged write on beta too; no split-brain; beta primary again"

# --- beta's VM killed while both write ---
ackw_on alpha $A_FIRST acked2-alpha.log
ackw_on beta $B_FIRST acked2-beta.log
wait_acked acked2-alpha.log 200
wait_acked acked2-beta.log 200
t0=$(date +%s%N)
vm_kill beta
vm_run alpha "timeout 60 dd if=/dev/urandom of=$DEV bs=4k count=1 seek=$B_FIRST oflag=direct \
	conv=notrunc status=none" || fail "alpha could not write in beta's region within 60 s of the crash"
ms=$((($(date +%s%N) - t0) / 1000000))
vm_note "crash of a primary: alpha wrote an extent beta held $ms ms after beta's VM was killed"
((ms < 30000)) || fail "lock recovery took $ms ms, not well inside OCFS2's 60 s"
n=$(acked acked2-alpha.log)
wait_acked acked2-alpha.log $((n + 200)) 60
vm alpha "$ACKW" check "$DEV" /shared/acked2-beta.log
assert_eq "$(st alpha role)" primary "alpha is still primary"
pass "beta crashed: alpha writes on, took beta's extents in $ms ms, holds beta's acknowledged writes"

hablk_rejoin beta
wait_st beta managed True 30
assert_eq "$(st beta role)" secondary "beta returns as a secondary"
adm beta wait-sync "$RES" --timeout 300
adm alpha wait-sync "$RES" --timeout 60
vm_run alpha "pkill -x ackw; while pgrep -x ackw >/dev/null; do sleep 0.1; done"
bg_wait ackw-alpha 30 || true
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "beta resynced: the devices identical"
vm beta "$ACKW" check "$DEV" /shared/acked2-alpha.log
no_split_brain
pass "beta back as a secondary, resynced; no split-brain"
hablk_check_logs alpha beta
pass "kernel logs clean"
