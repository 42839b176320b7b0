#!/bin/bash
# allow-two-primaries refused where it is not safe, each with one clear line, nothing changed:
# * with protocol A: a configuration error (exit 2) at up;
# * without hablkd managing the node: primary refused (its writes would wait for locks no one
#   grants); hablkd started, the same primary succeeds;
# * without allow-two-primaries: the second primary refused, the peer being primary;
# * a peer that is primary: no auto-promote on open for writing without allow-two-primaries;
# * the two nodes with different lock-extents: they do not connect, and say why.
source "$(dirname "$0")/../scenario.sh"

# refused: exit code 1 or 2 (want), stderr matching a pattern, printed
refused() { # refused WANT_RC PATTERN NODE ARGS...
	local want=$1 pat=$2 n=$3 out rc=0
	shift 3
	out=$(adm "$n" "$@" 2>&1) || rc=$?
	assert_eq "$rc" "$want" "$n $*: exit $want"
	[[ $out == *"$pat"* ]] || fail "$n $*: '$out' does not say '$pat'"
	(($(wc -l <<<"$out") == 1)) || fail "$n $*: more than one line: $out"
	pass "$n $*: $out"
}

hablk_trio_boot 128

# protocol A
PROTOCOL=A hablk_trio_config "allow-two-primaries yes"
refused 2 "allow-two-primaries yes needs protocol C" alpha up "$RES"
vm alpha test ! -e "$DEV" || fail "a refused up created the device"

# no hablkd
hablk_trio_config "allow-two-primaries yes"
hablk_up alpha beta
adm alpha wait-connect "$RES" --timeout 60
refused 1 "allow-two-primaries needs hablkd, and it does not manage this node" \
	alpha primary "$RES" --force
assert_eq "$(st alpha role)" secondary "alpha is still secondary"
hablkd_start alpha beta gamma
wait_st alpha managed True 30
adm alpha primary "$RES" --force
adm alpha wait-sync "$RES" --timeout 300
pass "hablkd managing alpha: primary succeeds"

# allow-two-primaries no: one primary only
vm_run alpha "pkill -x hablkd; $ADM -c $CFG secondary $RES"
vm_run beta "pkill -x hablkd"
vm_run gamma "pkill -x hablkd"
for n in alpha beta; do adm $n down "$RES"; done
hablk_trio_config "allow-two-primaries no
	    auto-promote yes"
for n in alpha beta; do adm $n up "$RES"; done
hablkd_start alpha beta gamma
adm alpha wait-connect "$RES" --timeout 60
wait_st alpha managed True 30
wait_st beta managed True 30
adm alpha primary "$RES"
refused 1 "peer is primary" beta primary "$RES"
assert_eq "$(st beta role)" secondary "beta is still secondary"
if vm_run beta "dd if=/dev/zero of=$DEV bs=4k count=1 oflag=direct status=none 2>/dev/null"; then
	fail "beta opened the device for writing while alpha is primary"
fi
assert_eq "$(st beta role)" secondary "an open for writing did not promote beta"
assert_eq "$(st alpha two_primaries)" False "status: one primary allowed"
pass "without allow-two-primaries: beta refused primary and promote-on-open"

# different lock extents: the two would number different extents; they must not connect
vm_run alpha "pkill -x hablkd"; vm_run beta "pkill -x hablkd"
adm alpha secondary "$RES"
for n in alpha beta; do adm $n down "$RES"; done
hablk_trio_config "allow-two-primaries yes
	    lock-extent 1M"
sed 's/lock-extent 1M/lock-extent 4M/' "$VM_SHARED/r0.res" >"$VM_SHARED/r0-4m.res"
adm alpha up "$RES"
vm beta "$ADM" -c /shared/r0-4m.res up "$RES"
end=$((SECONDS + 30))
until [[ $(st alpha peer.last_error) == *"lock-extent differs"* ]]; do
	((SECONDS < end)) || fail "alpha: no lock-extent error: '$(st alpha peer.last_error)'"
	sleep 0.2
done
[[ $(st beta peer.connection) != connected ]] || fail "beta connected with a different lock-extent"
pass "different lock-extents: not connected: $(st alpha peer.last_error)"
