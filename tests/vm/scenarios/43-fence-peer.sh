#!/bin/bash
# Fencing without an arbiter (hablkd on alpha and beta, a fence-peer handler): the link cut,
# the primary freezes and runs the handler with the documented arguments and environment; a
# handler that hangs is killed after 60 s; while the handler fails, I/O stays frozen and the
# status says so; once it succeeds (the peer is fenced) the frozen write completes. Beta,
# without quorum, is never promoted. A write in flight when the link fails reaches beta when
# the link comes back before the thaw.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 128
# the handler logs its arguments and environment, and exits with what fence.rc says (or hangs)
cat >"$VM_SHARED/fence.sh" <<'SH'
#!/bin/sh
echo "args=$* res=$HABLK_RESOURCE node=$HABLK_NODE peer=$HABLK_PEER id=$HABLK_PEER_ID addr=$HABLK_PEER_ADDRESS control=$HABLK_PEER_CONTROL arbiter=$HABLK_ARBITER" >>/shared/fence.log
rc=$(cat /shared/fence.rc)
[ "$rc" != hang ] || exec sleep 3601
exit "$rc"
SH
chmod +x "$VM_SHARED/fence.sh"
echo hang >"$VM_SHARED/fence.rc"
hablk_config "fence-peer /shared/fence.sh
    auto-promote yes"
hablkd_start alpha beta
wait_st alpha managed True 30
wait_st beta managed True 30
wait_log alpha "node beta is reachable" 30

vm alpha ip link set eth0 down
wait_st alpha suspended True 30
bg_start alpha frozen "dd if=/dev/urandom of=$DEV bs=4k count=1 seek=3000 oflag=direct status=none"
wait_log alpha "fence-peer handler failed \(hung: killed after 60 s\)" 90
[[ $(view alpha fencing) == "frozen: fence-peer handler failed (hung: killed after 60 s)" ]] ||
	fail "alpha's fencing status: '$(view alpha fencing)'"
[[ ! -e $VM_SHARED/frozen.rc ]] || fail "a write completed while the handler hung"
# (the guest's agent runs sleeps of its own: look for the handler's)
vm alpha pgrep -f "sleep 360[1]" >/dev/null && fail "the hung handler was not killed"
pass "a hung handler is killed after 60 s and reported; I/O stays frozen"
echo 1 >"$VM_SHARED/fence.rc"
wait_log alpha "fence-peer handler failed \(exit 1\)" 30
assert_eq "$(head -1 "$VM_SHARED/fence.log")" \
	"args=r0 beta res=r0 node=alpha peer=beta id=1 addr=192.0.2.2:7788 control=192.0.2.2:7789 arbiter=none" \
	"the handler got the resource, the peer and its addresses"
[[ $(view alpha fencing) == "frozen: fence-peer handler failed (exit 1)" ]] ||
	fail "alpha's fencing status: '$(view alpha fencing)'"
[[ ! -e $VM_SHARED/frozen.rc ]] || fail "a write completed while the handler failed"
assert_eq "$(st alpha suspended)" True "alpha stays frozen"
assert_eq "$(st beta role)" secondary "beta, without quorum, was not promoted"
pass "the failing handler keeps alpha frozen; the status says why"

echo 0 >"$VM_SHARED/fence.rc"
wait_log alpha "fence-peer handler fenced beta" 60
bg_wait frozen 60 || fail "the frozen write failed once the peer was fenced"
assert_eq "$(st alpha suspended)" False "alpha resumed"
assert_eq "$(st alpha quorum)" True "fencing the peer gave alpha quorum"
((($(wc -l <"$VM_SHARED/fence.log")) >= 2)) || fail "the handler was not run again"
pass "the handler succeeded on a retry; the frozen write completed"

vm alpha ip link set eth0 up
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(st beta role)" secondary "beta stayed secondary"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "link back: beta resynced, whole device identical"

# A write in flight when the link fails is held; the link comes back before the handler
# succeeds: the generations are still equal, yet beta must get that write (a resync of
# its bits, rule 4/5), not be trusted as in sync (rule 6).
# fault_slow_fail holds the torn link for 1 s after the freeze: hablkd, woken by the
# freeze, must not read "frozen yet connected" then and thaw I/O as if replicating.
echo 1 >"$VM_SHARED/fence.rc"
vm beta dmesg -C
vm alpha sh -c 'echo 1000 >/sys/module/hablk/parameters/fault_slow_fail'
vm alpha ip link set eth0 down
bg_start alpha inflight "dd if=/dev/urandom of=$DEV bs=64k count=1 seek=500 oflag=direct status=none"
wait_st alpha suspended True 30
wait_log alpha "fence-peer handler failed" 30
vm alpha sh -c 'echo 0 >/sys/module/hablk/parameters/fault_slow_fail'
[[ ! -e $VM_SHARED/inflight.rc ]] || fail "the write in flight completed while frozen"
thawed=$(grep "quorum: replicating; frozen I/O resumed" "$VM_SHARED/hablkd-alpha.log" || true)
[[ -z $thawed ]] || fail "hablkd thawed a link being torn down: $thawed"
vm alpha ip link set eth0 up
bg_wait inflight 60 || fail "the held write failed once the link was back"
adm beta wait-sync "$RES" --timeout 120
adm alpha wait-sync "$RES" --timeout 60
vm beta dmesg | grep -q "connected to alpha: target (rule 5)" ||
	fail "beta was not resynced the held write's blocks: $(vm beta dmesg | grep 'connected to')"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "a write held over a reconnect reached beta"
hablk_check_logs alpha beta
pass "kernel logs clean"
