#!/bin/bash
# (c) Bad input: a malformed configuration, an unknown resource, primary on the secondary while
# the peer is primary, a mismatched secret on one side, a non-root caller. Each gets a clear
# one-line error and the right exit code, and changes nothing.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 64

# expect NODE RC PATTERN ARGS...: hablkadm ARGS exits RC with one stderr line matching PATTERN.
expect() {
	local n=$1 want=$2 pat=$3 out rc=0
	shift 3
	local q='' a
	for a; do q+="'${a//\'/\'\\\'\'}' "; done
	out=$(vm_run "$n" "$q 2>&1 >/dev/null") || rc=$?
	assert_eq "$rc" "$want" "exit code of: $*"
	[[ $out =~ $pat ]] || fail "stderr of '$*' is '$out', wanted /$pat/"
	[[ $(wc -l <<<"$out") == 1 ]] || fail "stderr of '$*' is not one line: $out"
	pass "'$*' -> $rc: $out"
}

before=$(adm alpha status -j)

# malformed configuration: file, line, what
printf 'resource r0 {\n    minor 0\n    protcol C\n}\n' >"$VM_SHARED/bad.res"
expect alpha 2 '^/shared/bad.res:3: .*protcol' "$ADM" -c /shared/bad.res up r0
expect alpha 2 'unknown command' "$ADM" -c "$CFG" frobnicate r0
expect alpha 2 'usage' "$ADM" -c "$CFG" primary

# unknown resource
expect alpha 2 'r9: no such resource' "$ADM" -c "$CFG" up r9
expect alpha 1 'no such resource is up' "$ADM" -c "$CFG" primary r9
expect alpha 1 'no such resource is up' "$ADM" -c "$CFG" status r9

# already up; the disk is held exclusively
expect alpha 1 'already up' "$ADM" -c "$CFG" up r0
expect alpha 1 'in use' "$ADM" -c "$CFG" create-md r0 --force

# primary on the secondary while alpha is primary
expect beta 1 'peer is primary' "$ADM" -c "$CFG" primary r0
assert_eq "$(st beta role)" secondary "beta stayed secondary"

# non-root caller: refused, nothing changes; status still readable
expect alpha 1 'permission denied' setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ADM" -c "$CFG" secondary r0
vm alpha setpriv --reuid=65534 --regid=65534 --clear-groups "$ADM" status r0 >/dev/null
assert_eq "$(adm alpha status -j)" "$before" "alpha's state unchanged by the refused commands"

# malformed netlink requests: every one rejected by the kernel, nothing created
vm alpha "$VM_SRC/tests/vm/nlbad"
assert_eq "$(adm alpha status -j)" "$before" "no resource created by the malformed requests"
pass "malformed netlink requests rejected"

# garbage on the replication port while the link is down: dropped and logged, then the real
# peer still connects
adm alpha disconnect r0
vm_run alpha '#!/bin/bash
exec 3<>/dev/tcp/192.0.2.2/7788 && head -c 300 /dev/urandom >&3 && sleep 1'
end=$((SECONDS + 20))
until vm_console beta | grep -q 'malformed'; do
	((SECONDS < end)) || fail "beta did not log the malformed handshake"
	sleep 0.2
done
adm alpha connect r0
adm alpha wait-connect r0 --timeout 30
pass "garbage on the replication port dropped and logged; the peer reconnects"

# mismatched secret on beta: the link does not come up, both sides say why, no data moves
adm beta down r0
sed 's/hablk-test-secret/not-the-secret/' "$VM_SHARED/r0.res" >"$VM_SHARED/wrong.res"
vm beta "$ADM" -c /shared/wrong.res up r0
if adm alpha wait-connect r0 --timeout 6 2>/dev/null; then fail "connected with a wrong secret"; fi
[[ $(st alpha peer.last_error) == *secret* ]] || fail "alpha's status does not name the secret: $(st alpha peer.last_error)"
vm_console alpha | grep -q 'failed authentication' || fail "alpha's kernel log does not report the failed authentication"
pass "wrong secret refused: $(st alpha peer.last_error)"

# right secret again: connects, and data is still identical
adm beta down r0
adm beta up r0
adm alpha wait-sync r0 --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "devices identical after the refused connection"
hablk_check_logs alpha beta
pass "kernel logs clean"
