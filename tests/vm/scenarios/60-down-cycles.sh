#!/bin/bash
# (f) down (and secondary) while the device is open is refused and changes nothing; then 20
# cycles of insmod, up, connect, down, rmmod on alpha while beta stays up: no object leaks.
source "$(dirname "$0")/../scenario.sh"

hablk_pair_synced 64
bg_start alpha holder "exec 3<$DEV; touch /shared/holder.open; sleep 600"
end=$((SECONDS + 30))
until [[ -e $VM_SHARED/holder.open ]]; do ((SECONDS < end)) || fail "holder did not open"; sleep 0.1; done
if adm alpha down "$RES" 2>/dev/null; then fail "down accepted while open"; fi
if adm alpha secondary "$RES" 2>/dev/null; then fail "secondary accepted while open"; fi
assert_eq "$(st alpha role)" primary "alpha still primary"
assert_eq "$(st alpha peer.connection)" connected "still connected"
pass "down and secondary refused while the device is open"
vm alpha pkill -f 'sleep 600'
bg_wait holder 30 || true
adm alpha secondary "$RES"

vm_run alpha --timeout 600 "
	set -e
	for i in \$(seq 20); do
		$ADM -c $CFG down $RES
		o=\$(cat /sys/module/hablk/parameters/objects)
		[ \"\$o\" = '$NO_OBJECTS' ] ||
			{ echo \"cycle \$i: objects left after down: \$o\"; exit 1; }
		rmmod hablk
		dmesg | tail -n 3 | grep -q 'unloaded, 0 objects leaked' ||
			{ echo \"cycle \$i: leak reported at rmmod\"; dmesg | tail -n 3; exit 1; }
		insmod \"\$HABLK_SRC/build/\$(uname -r)/hablk.ko\"
		$ADM -c $CFG up $RES
		$ADM -c $CFG wait-connect $RES --timeout 30
	done"
pass "20 down/rmmod/insmod/up/connect cycles, no objects left"
adm alpha wait-sync "$RES" --timeout 60
assert_eq "$(dev_sum beta)" "$(dev_sum alpha)" "device identical after the cycles"
hablk_check_logs alpha beta
pass "kernel logs clean"
