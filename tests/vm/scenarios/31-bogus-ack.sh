#!/bin/bash
# A wire message that must not be trusted: beta's fault injection makes every ack it sends
# name a request alpha never sent. Alpha's data_ready callback rejects it; the meta thread
# drops the link ("peer sent a bogus ack"), and the write that waited for the real ack
# completes as written alone, its blocks out of sync. Once beta acks honestly again the pair
# reconnects and resyncs them: both devices identical, and no kernel warning on either node.
source "$(dirname "$0")/../scenario.sh"

hablk_boot 64
hablk_pair_up 120

vm beta sh -c 'echo 1 >/sys/module/hablk/parameters/fault_bad_ack'
vm alpha dd if=/dev/urandom of="$DEV" bs=4k count=4 seek=100 oflag=direct status=none
pass "the write completed although its ack was bogus"
vm beta sh -c 'echo 0 >/sys/module/hablk/parameters/fault_bad_ack'
end=$((SECONDS + 20))
until vm_console alpha | grep -q 'connection lost: peer sent a bogus ack or meta packet'; do
	((SECONDS < end)) || fail "alpha did not drop the link for the bogus ack"
	sleep 0.2
done
pass "alpha dropped the link: peer sent a bogus ack or meta packet"

adm alpha wait-connect "$RES" --timeout 60
adm alpha wait-sync "$RES" --timeout 60
adm beta wait-sync "$RES" --timeout 60
assert_eq "$(st alpha peer.out_of_sync_kib)" 0 "nothing out of sync after the resync"
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "whole device identical"
hablk_check_logs alpha beta
pass "kernel logs clean"
