# shellcheck shell=bash
# hablk scenario helpers, sourced after lib.sh: a pair of data nodes (alpha, beta) linked by
# one UDP link, the resource r0 on each node's /dev/vdb, and short wrappers to drive them.
#
#   alpha 192.0.2.1 eth0 ====== UDP link ====== eth0 192.0.2.2 beta
#         /dev/vdb -> /dev/hablk0                 /dev/hablk0 <- /dev/vdb

RES=r0
CFG=/shared/r0.res              # the same file on both nodes (the shared 9p folder)
DEV=/dev/hablk0
ADM="$VM_SRC/userspace/hablkadm"

# adm NODE ARGS...: hablkadm on NODE with the scenario's configuration.
adm() { local n=$1; shift; vm "$n" "$ADM" -c "$CFG" "$@"; }

# hablk_config [EXTRA_RESOURCE_LINES]: write r0.res for the pair.
hablk_config() {
	cat >"$VM_SHARED/r0.res" <<-CONF
	resource r0 {
	    minor 0
	    protocol ${PROTOCOL:-C}
	    secret "${SECRET:-hablk-test-secret}"
	    ping-interval 500
	    ping-timeout 1500
	    connect-interval 100
	    connect-interval-max 1000
	    ${1:-}
	    node alpha {
	        id 0
	        address 192.0.2.1:7788
	        disk /dev/vdb
	        meta-disk internal
	    }
	    node beta {
	        id 1
	        address 192.0.2.2:7788
	        disk /dev/vdb
	        meta-disk internal
	    }
	}
	CONF
}

# hablk_load NODE: insmod the module built for the guest's kernel.
hablk_load() {
	vm_run "$1" 'insmod "$HABLK_SRC/build/$(uname -r)/hablk.ko"'
}

# hablk_boot [DISK_MIB]: boot the pair and load the module (no resource yet).
hablk_boot() {
	local size=${1:-256}
	vm_link alpha eth0 beta eth0
	vm_start alpha --ip eth0:192.0.2.1/24 --disk "$size" --no-wait
	vm_start beta --ip eth0:192.0.2.2/24 --disk "$size" --no-wait
	vm_wait alpha beta
	hablk_config
	hablk_load alpha
	hablk_load beta
}

# hablk_up NODE...: create-md and up.
hablk_up() {
	local n
	for n in "$@"; do
		adm "$n" create-md "$RES" >/dev/null
		adm "$n" up "$RES"
	done
}

# hablk_pair_synced [DISK_MIB]: boot, up, alpha primary --force, wait for the full sync.
hablk_pair_synced() {
	hablk_boot "$@"
	hablk_up alpha beta
	adm alpha wait-connect "$RES" --timeout 60
	adm alpha primary "$RES" --force
	adm alpha wait-sync "$RES" --timeout 300
	adm beta wait-sync "$RES" --timeout 60
}

# st NODE FIELD: one field of the first resource's status (top level, or peer.FIELD).
st() {
	local json
	json=$(adm "$1" status -j "$RES")
	python3 -c 'import json,sys
d=json.loads(sys.argv[1])["resources"][0]; k=sys.argv[2]
print(d["peers"][0][k[5:]] if k.startswith("peer.") else d[k])' "$json" "$2"
}

# dev_sum NODE: md5 of the whole device, read with O_DIRECT.
dev_sum() {
	vm_run "$1" "dd if=$DEV bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1"
}

# disk_sum NODE SECTORS: md5 of the first SECTORS of the backing disk.
disk_sum() {
	vm_run "$1" "head -c \$(($2 * 512)) /dev/vdb | md5sum | cut -d' ' -f1"
}

# objects NODE: the module's live object counts.
objects() { vm "$1" cat /sys/module/hablk/parameters/objects; }

# hablk_check_logs: fail on any kernel splat on either node.
hablk_check_logs() {
	local n
	for n in "$@"; do vm_check_log "$n"; done
}
