#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# bench-report.py: scripts/bench's report: its measurements (section.name=value arguments) made
# into the JSON file and the table it prints, with ratios to the raw disk, the link and DRBD.
#   bench-report.py JSON KVER DATE COMMIT RUNTIME SIZE MEM PINGS ROUND_TRIPS IPERF_S DIRTY_PCT
#                   SECTION.NAME=VALUE...
import json, sys

path, kver, date, commit, runtime, size, mem, pings, round_trips, iperf_s, dirty_pct = sys.argv[1:12]
r = {}
for kv in sys.argv[12:]:
    k, v = kv.split("=", 1)
    sec, name = k.split(".", 1)
    try:
        v = float(v)
    except ValueError:
        pass
    r.setdefault(sec, {})[name] = v
raw, link, hb, ha, db = r["raw"], r["link"], r["hablk"], r["hablk_a"], r["drbd"]
hn = r["hablk_null"]        # hablk C on null disks: seq write and sync only
bs = r["beside"]            # iperf3 while both disks are written at hablk C's seq rate
# The link was measured three times; each of its figures is the median of the three.
link_runs = [link, r["link2"], r["link3"]]
link_samples = {k: [x[k] for x in link_runs] for k in r["link2"]}
for k, v in link_samples.items():
    link[k] = sorted(v)[1]
# The nbd floor's jobs, under the keys of a system's: "qd1.lat_mean_us" and so on.
nbd = {("qd1." + k[5:] if k.startswith("nbd1.") else "qd16." + k[6:]): v
       for k, v in link.items() if k.startswith(("nbd1.", "nbd16."))}
for d in (hb, ha, db, hn):
    d["sync_mb_s"] = d["sync_mib"] * 1048576 / 1e6 / d["sync_s"]

def div(a, b):
    return a / b if b else None

# The limits set by the link: throughput = iperf3; a synchronous 4 KiB write = one TCP
# request/response plus the local write.
link_iops_4k = link["iperf3_mb_s"] * 1e6 / 4096
rr_raw = link["rr_mean_us"] + raw["qd1.lat_mean_us"]

def system_ratios(d):
    return {
        "seq_write_vs_raw": div(d["seq.mb_s"], raw["seq.mb_s"]),
        "seq_write_vs_iperf3": div(d["seq.mb_s"], link["iperf3_mb_s"]),
        "qd1_iops_vs_raw": div(d["qd1.iops"], raw["qd1.iops"]),
        "qd1_lat_mean_vs_raw": div(d["qd1.lat_mean_us"], raw["qd1.lat_mean_us"]),
        "qd1_lat_mean_vs_rr_plus_raw": div(d["qd1.lat_mean_us"], rr_raw),
        "qd1_lat_mean_vs_rr": div(d["qd1.lat_mean_us"], link["rr_mean_us"]),
        "qd1_lat_p50_vs_rr": div(d["qd1.lat_p50_us"], link["rr_mean_us"]),
        "qd1_lat_mean_vs_nbd": div(d["qd1.lat_mean_us"], nbd["qd1.lat_mean_us"]),
        "qd1_lat_p99_vs_raw": div(d["qd1.lat_p99_us"], raw["qd1.lat_p99_us"]),
        "qd16_iops_vs_raw": div(d["qd16.iops"], raw["qd16.iops"]),
        "qd16_iops_vs_iperf3_4k": div(d["qd16.iops"], link_iops_4k),
        "qd16_iops_vs_rr16": div(d["qd16.iops"], link["rr16_ops_s"]),
        "qd16_iops_vs_nbd": div(d["qd16.iops"], nbd["qd16.iops"]),
        "qd16_lat_mean_vs_raw": div(d["qd16.lat_mean_us"], raw["qd16.lat_mean_us"]),
        "qd64_iops_vs_raw": div(d["qd64.iops"], raw["qd64.iops"]),
        "qd64_iops_vs_iperf3_4k": div(d["qd64.iops"], link_iops_4k),
        "qd64_iops_vs_rr64": div(d["qd64.iops"], link["rr64_ops_s"]),
        "randread_qd16_iops_vs_raw": div(d["rr16.iops"], raw["rr16.iops"]),
        "sync_vs_iperf3": div(d["sync_mb_s"], link["iperf3_mb_s"]),
        "resync_link_vs_dirty": div(d["resync_link_bytes"], d["resync_dirty_bytes"]),
    }

ratios = system_ratios(hb)          # hablk protocol C (the keys of earlier runs)
ratios_null = {"seq_write_vs_iperf3": div(hn["seq.mb_s"], link["iperf3_mb_s"]),
               "sync_vs_iperf3": div(hn["sync_mb_s"], link["iperf3_mb_s"]),
               "seq_write_brd_vs_null": div(hb["seq.mb_s"], hn["seq.mb_s"]),
               "sync_brd_vs_null": div(hb["sync_mb_s"], hn["sync_mb_s"]),
               "iperf3_beside_disks_vs_iperf3": div(bs["iperf3_mb_s"], link["iperf3_mb_s"]),
               "seq_write_brd_vs_iperf3_beside_disks": div(hb["seq.mb_s"], bs["iperf3_mb_s"])}
ratios_a = system_ratios(ha)
ratios_drbd = system_ratios(db)
vs_drbd = {
    "seq_write": div(hb["seq.mb_s"], db["seq.mb_s"]),
    "qd1_iops": div(hb["qd1.iops"], db["qd1.iops"]),
    "qd1_lat_mean": div(hb["qd1.lat_mean_us"], db["qd1.lat_mean_us"]),
    "qd16_iops": div(hb["qd16.iops"], db["qd16.iops"]),
    "qd64_iops": div(hb["qd64.iops"], db["qd64.iops"]),
    "randread_qd16_iops": div(hb["rr16.iops"], db["rr16.iops"]),
    "sync_mb_s": div(hb["sync_mb_s"], db["sync_mb_s"]),
    "resync_s": div(hb["resync_s"], db["resync_s"]),
}

def per_op(d, key):
    """What one operation (fio I/O, request/response) cost each guest: packets out and in,
    network interrupts, context switches."""
    ops = d[key + ".ops"]
    return {n: {"packets_out": d["%s.out_%s" % (key, n)] / ops,
                "packets_in": d["%s.in_%s" % (key, n)] / ops,
                "net_irqs": d["%s.irq_%s" % (key, n)] / ops,
                "switches": d["%s.sw_%s" % (key, n)] / ops} for n in ("alpha", "beta")}

jobs = {"seq": "seq_write_1m_qd8", "qd1": "randwrite_4k_qd1", "qd16": "randwrite_4k_qd16",
        "qd64": "randwrite_4k_qd64", "rr16": "randread_4k_qd16"}

def fio(d, only=jobs):
    out = {}
    for j in only:
        out[jobs[j]] = {k: d[j + "." + k] for k in ("mb_s", "iops", "lat_mean_us", "lat_p50_us",
                                                   "lat_p99_us", "cpu_alpha", "cpu_beta",
                                                   "host_steal", "host_busy", "tries")}
        out[jobs[j]]["per_io"] = per_op(d, j)
    return out

def replicated(d, protocol):
    out = {"protocol": protocol,
           "initial_sync_mib": d["sync_mib"], "initial_sync_s": d["sync_s"],
           "initial_sync_mb_s": d["sync_mb_s"], "stayed_connected": bool(d["connected_after"]),
           "initial_sync_cpu_busy_percent": {"alpha": d["sync.cpu_alpha"], "beta": d["sync.cpu_beta"]},
           "initial_sync_host_steal_percent": d["sync.host_steal"],
           "initial_sync_host_busy_percent": d["sync.host_busy"],
           "resync": {"dirty_percent": int(dirty_pct), "pattern": "4 KiB random writes",
                      "dirty_bytes": int(d["resync_dirty_bytes"]),
                      "out_of_sync_counted_bytes": int(d["resync_oos_bytes"]),
                      "link_bytes_both_ways": int(d["resync_link_bytes"]),
                      "link_vs_dirty": div(d["resync_link_bytes"], d["resync_dirty_bytes"]),
                      "s": d["resync_s"]}}
    out.update(fio(d))
    return out

drbd_out = replicated(db, "C")
drbd_out["version"] = str(db.get("version", ""))
drbd_out["tuning"] = ("net: max-buffers 8000, max-epoch-size 8000, sndbuf-size 0, rcvbuf-size 0; "
                      "disk: c-plan-ahead 0, resync-rate 1000M, al-extents 1237, disk-flushes no, md-flushes no")
# Two primaries (section 4c): alpha alone against hablk C; the handover against req/resp;
# both nodes at once against alpha alone; stripes by lock extent.
hd, du = r["hablk_dual"], r["dual"]
extents = [("64K", r["dual_64K"]), ("1M", du), ("16M", r["dual_16M"])]
main = {"seq": "mb_s", "qd1": "iops", "qd16": "iops", "qd64": "iops", "rr16": "iops"}
ratios_dual = {
    "one_writer_vs_hablk_c": {jobs[j]: div(hd[j + "." + m], hb[j + "." + m]) for j, m in main.items()},
    "handover_vs_rr": div(du["handover_us"], link["rr_mean_us"]),
    "disjoint_seq_sum_vs_one_writer": div(du["seq.sum_mb_s"], hd["seq.mb_s"]),
    "disjoint_seq_sum_vs_iperf3": div(du["seq.sum_mb_s"], link["iperf3_mb_s"]),
    "disjoint_qd16_sum_vs_one_writer": div(du["qd16.sum_iops"], hd["qd16.iops"]),
}
def both(d, key):
    return {"alpha": {"iops": d[key + ".alpha_iops"], "mb_s": d[key + ".alpha_mb_s"]},
            "beta": {"iops": d[key + ".beta_iops"], "mb_s": d[key + ".beta_mb_s"]},
            "sum": {"iops": d[key + ".sum_iops"], "mb_s": d[key + ".sum_mb_s"]},
            "lock_ops_per_s": d[key + ".lock_ops_s"],
            "cpu_busy_percent": {"alpha": d[key + ".cpu_alpha"], "beta": d[key + ".cpu_beta"]},
            "host_busy_percent": d[key + ".host_busy"], "host_steal_percent": d[key + ".host_steal"]}
dual_out = dict(fio(hd), setup="allow-two-primaries, hablkd on both, lock extent 1 MiB; "
                               "the fio suite with alpha alone writing",
                stayed_connected=bool(hd["connected_after"]),
                handover={"mean_wait_us": du["handover_us"], "writes_waited": du["handover_waits"],
                          "setup": "one 4 KiB write at a time in one extent, alpha and beta in turn"},
                disjoint_halves={"seq_write_1m_qd8": both(du, "seq"),
                                 "randwrite_4k_qd16": both(du, "qd16")},
                stripes_4m={e: dict(both(d, "stripes"), handover_mean_wait_us=d["handover_us"])
                            for e, d in extents},
                ratios=ratios_dual)

out = {
    "date": date, "kernel": kver, "commit": commit,
    "setup": {"vms": "alpha, beta: QEMU TCG, 1 vCPU, %s MiB" % mem, "link": "QEMU UDP socket",
              "cpu_busy": "% of each guest's vCPU busy (/proc/stat) from just before a job to just after",
              "host_steal": "% of the host's CPU time its hypervisor gave to others (/proc/stat steal), same span",
              "host_busy": "% of the host's CPU time (all its cores) busy (/proc/stat), same span",
              "disk": "brd /dev/ram0, %s MiB" % size, "fio_runtime_s": int(runtime),
              "fio_tries_max": int(r["run"]["tries"]),
              "fio_steal_max_percent": int(r["run"]["steal_max"]),
              "fio": "direct=1 ioengine=libaio time_based lat_percentiles=1"},
    "raw_disk": fio(raw),
    "nbd_floor": dict(fio(nbd, ("qd1", "qd16")),
                      setup="kernel nbd client on alpha, scripts/nbdfloor.c serving beta's brd (O_DIRECT)"),
    "link": {"ping_rtt_mean_us": link["ping_rtt_us"], "pings": int(pings),
             "tcp_rr_4k_64_mean_us": link["rr_mean_us"], "tcp_rr_4k_64_p50_us": link["rr_p50_us"],
             "tcp_rr_4k_64_p99_us": link["rr_p99_us"], "tcp_rr_round_trips": int(round_trips),
             "tcp_rr_pipelined": {str(d): {"ops_s": link["rr%d_ops_s" % d],
                                           "mean_us": link["rr%d_mean_us" % d],
                                           "cpu_busy_percent": {"alpha": link["rr%d.cpu_alpha" % d],
                                                                "beta": link["rr%d.cpu_beta" % d]},
                                           "host_steal_percent": link["rr%d.host_steal" % d],
                                           "host_busy_percent": link["rr%d.host_busy" % d],
                                           "per_request": per_op(link, "rr%d" % d)}
                                  for d in (16, 64)},
             "tcp_rr_per_request": per_op(link, "rr1"),
             "iperf3_cpu_busy_percent": {"alpha": link["iperf3.cpu_alpha"],
                                         "beta": link["iperf3.cpu_beta"]},
             "iperf3_host_steal_percent": link["iperf3.host_steal"],
             "iperf3_host_busy_percent": link["iperf3.host_busy"],
             "median_of": 3,
             "runs": {k: link_samples[k] for k in ("rr_mean_us", "rr16_ops_s", "rr64_ops_s",
                                                  "iperf3_mb_s", "iperf3.host_steal",
                                                  "nbd1.lat_mean_us", "nbd16.iops")},
             "iperf3_tcp_mb_s": link["iperf3_mb_s"],
             "iperf3_retransmits": int(link["iperf3_retransmits"]), "iperf3_s": int(iperf_s)},
    "hablk": replicated(hb, "C"),
    "hablk_protocol_a": replicated(ha, "A"),
    "hablk_null_disks": dict(fio(hn, ("seq",)), protocol="C",
                             setup="null_blk (irqmode=0, memory_backed=0) data disks, "
                                   "metadata external on brd /dev/ram0",
                             initial_sync_mib=hn["sync_mib"], initial_sync_s=hn["sync_s"],
                             initial_sync_mb_s=hn["sync_mb_s"],
                             initial_sync_cpu_busy_percent={"alpha": hn["sync.cpu_alpha"],
                                                            "beta": hn["sync.cpu_beta"]},
                             initial_sync_host_busy_percent=hn["sync.host_busy"],
                             stayed_connected=bool(hn["connected_after"]),
                             ratios=ratios_null),
    "iperf3_beside_disks": {"setup": "iperf3 alpha -> beta while fio writes both nodes' brd "
                                     "(1 MiB, O_DIRECT, QD1) at hablk C's seq rate",
                            "rate_mb_s": bs["rate_mb_s"],
                            "disk_mb_s": {"alpha": bs["disk_mb_s_alpha"], "beta": bs["disk_mb_s_beta"]},
                            "iperf3_tcp_mb_s": bs["iperf3_mb_s"],
                            "cpu_busy_percent": {"alpha": bs["iperf3.cpu_alpha"],
                                                 "beta": bs["iperf3.cpu_beta"]},
                            "host_busy_percent": bs["iperf3.host_busy"],
                            "host_steal_percent": bs["iperf3.host_steal"]},
    "drbd": drbd_out,
    "hablk_two_primaries": dual_out,
    "ratios": ratios,
    "ratios_hablk_protocol_a": ratios_a,
    "ratios_drbd": ratios_drbd,
    "hablk_vs_drbd": vs_drbd,
}
def rounded(x):
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    return float("%.4g" % x) if isinstance(x, float) else x

with open(path, "w") as f:
    json.dump(rounded(out), f, indent=2)
    f.write("\n")

# ---- the table ----
def num(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        return "{:,.0f}".format(v)
    return "{:.1f}".format(v) if abs(v) >= 10 else "{:.2f}".format(v)

def ratio(v):
    if v is None:
        return "-"
    return ("{:.0f}x" if v >= 100 else "{:.1f}x" if v >= 10 else "{:.2f}x" if v >= 0.1 else "{:.3f}x").format(v)

systems = [("raw disk", raw), ("hablk C", hb), ("hablk A", ha), ("DRBD C", db)]
mib = lambda b: b / 1048576
W = 42
lines = []
def head(title, cols):
    lines.append("")
    lines.append(("%-*s %-5s" % (W, title, "") + "".join("%11s" % c for c in cols)).rstrip())
def row(name, unit, vals):
    lines.append(("  %-*s %-5s" % (W - 2, name, unit) + "".join("%11s" % v for v in vals)).rstrip())

head("link: alpha -> beta (UDP), median of 3 runs", ["", "runs"])
row("ping RTT, mean of %s" % pings, "us", [num(link["ping_rtt_us"])])
def runs(k):
    return "   " + " / ".join(num(v) for v in link_samples[k])
row("TCP req/resp 4 KiB->64 B, mean of %s" % round_trips, "us", [num(link["rr_mean_us"]), runs("rr_mean_us")])
row("  p99", "us", [num(link["rr_p99_us"])])
for d in (16, 64):
    row("  pipelined, %d in flight" % d, "ops/s", [num(link["rr%d_ops_s" % d]), runs("rr%d_ops_s" % d)])
row("iperf3 TCP, %s s (%d retransmits)" % (iperf_s, link["iperf3_retransmits"]), "MB/s",
    [num(link["iperf3_mb_s"]), runs("iperf3_mb_s")])
def cpu(d, key):
    return "%d/%d%%" % (d[key + ".cpu_alpha"], d[key + ".cpu_beta"])
def steal(d, key):
    tries = int(d.get(key + ".tries", 1))
    return "%d/%d%%" % (d[key + ".host_busy"], d[key + ".host_steal"]) + (" (%d)" % tries if tries > 1 else "")
row("nbd floor: 4 KiB write QD1, mean", "us", [num(nbd["qd1.lat_mean_us"]), runs("nbd1.lat_mean_us")])
row("  p50 / p99", "us", ["%s / %s" % (num(nbd["qd1.lat_p50_us"]), num(nbd["qd1.lat_p99_us"]))])
row("  4 KiB write QD16", "IOPS", [num(nbd["qd16.iops"]), runs("nbd16.iops")])
row("  vCPU busy alpha/beta, QD1 / QD16", "", [cpu(nbd, "qd1") + " / " + cpu(nbd, "qd16")])
row("  host CPU busy/stolen, QD1 / QD16", "", [steal(nbd, "qd1") + " / " + steal(nbd, "qd16")])
row("vCPU busy alpha/beta: req/resp, 16 in flight", "", [cpu(link, "rr16")])
row("  64 in flight", "", [cpu(link, "rr64")])
row("  iperf3", "", [cpu(link, "iperf3")])
row("host CPU busy/stolen: req/resp 16, 64, iperf3", "", [steal(link, k) for k in ("rr16", "rr64", "iperf3")])
# per operation: packets out/in, and network interrupts/context switches, on one guest
def few(v):
    return "%.2f" % v if v < 10 else "%.1f" % v if v < 100 else "%.0f" % v
def counts(d, key, n, a, b):
    p = per_op(d, key)[n]
    return "%s/%s" % (few(p[a]), few(p[b]))
PKTS, IRQS = ("packets_out", "packets_in"), ("net_irqs", "switches")
for n in ("alpha", "beta"):
    row("req/resp 1/16/64 in flight, %s: pkts" % n, "",
        [counts(link, k, n, *PKTS) for k in ("rr1", "rr16", "rr64")])
    row("  net IRQs/switches", "", [counts(link, k, n, *IRQS) for k in ("rr1", "rr16", "rr64")])

head("fio on alpha (same brd disks)", [s[0] for s in systems])
def fio_rows(job, label, main="iops", unit="IOPS"):
    row(label, unit, [num(d[job + "." + main]) for _, d in systems])
    if main == "iops":
        row("  mean latency", "us", [num(d[job + ".lat_mean_us"]) for _, d in systems])
        row("  p99 latency", "us", [num(d[job + ".lat_p99_us"]) for _, d in systems])
    row("  vCPU busy alpha/beta", "", [cpu(d, job) for _, d in systems])
    for n in ("alpha", "beta") if job != "rr16" else ():
        row("  per I/O, %s: packets out/in" % n, "", [counts(d, job, n, *PKTS) for _, d in systems])
        row("    net IRQs/switches", "", [counts(d, job, n, *IRQS) for _, d in systems])
    row("  host CPU busy/stolen", "", [steal(d, job) for _, d in systems])
fio_rows("seq", "seq write 1 MiB QD8", "mb_s", "MB/s")
fio_rows("qd1", "rand write 4 KiB QD1")
fio_rows("qd16", "rand write 4 KiB QD16")
fio_rows("qd64", "rand write 4 KiB QD64")
fio_rows("rr16", "rand read 4 KiB QD16")
rep = systems[1:]
lines.append("")
lines.append("%-*s %-5s" % (W, "sync and resync", "") + "%11s" % "" + "".join("%11s" % s[0] for s in rep))
def rrow(name, unit, vals):
    row(name, unit, [""] + vals)
rrow("initial full sync: size", "MiB", [num(d["sync_mib"]) for _, d in rep])
rrow("  time", "s", [num(d["sync_s"]) for _, d in rep])
rrow("  rate", "MB/s", [num(d["sync_mb_s"]) for _, d in rep])
rrow("  vCPU busy alpha/beta", "", [cpu(d, "sync") for _, d in rep])
rrow("  host CPU busy/stolen", "", [steal(d, "sync") for _, d in rep])
rrow("resync after %s %% changed: dirty" % dirty_pct, "MiB", [num(mib(d["resync_dirty_bytes"])) for _, d in rep])
rrow("  counted out of sync", "MiB", [num(mib(d["resync_oos_bytes"])) for _, d in rep])
rrow("  moved on the link (both ways)", "MiB", [num(mib(d["resync_link_bytes"])) for _, d in rep])
rrow("  moved / dirty", "", [ratio(div(d["resync_link_bytes"], d["resync_dirty_bytes"])) for _, d in rep])
rrow("  time", "s", [num(d["resync_s"]) for _, d in rep])
rrow("stayed connected through fio", "", ["yes" if d["connected_after"] else "NO" for _, d in rep])

head("without the disks: hablk C on null disks", ["", "/ iperf3", "brd / null"])
row("seq write 1 MiB QD8", "MB/s", [num(hn["seq.mb_s"]), ratio(ratios_null["seq_write_vs_iperf3"]),
                                    ratio(ratios_null["seq_write_brd_vs_null"])])
row("  vCPU busy alpha/beta", "", [cpu(hn, "seq")])
row("  host CPU busy/stolen", "", [steal(hn, "seq")])
row("initial full sync, %s MiB" % num(hn["sync_mib"]), "MB/s",
    [num(hn["sync_mb_s"]), ratio(ratios_null["sync_vs_iperf3"]), ratio(ratios_null["sync_brd_vs_null"])])
row("  vCPU busy alpha/beta", "", [cpu(hn, "sync")])
row("stayed connected through fio", "", ["yes" if hn["connected_after"] else "NO"])
row("iperf3, both disks written at %s MB/s" % num(bs["rate_mb_s"]), "MB/s",
    [num(bs["iperf3_mb_s"]), ratio(ratios_null["iperf3_beside_disks_vs_iperf3"])])
row("  disks written, alpha/beta", "MB/s", ["%s/%s" % (num(bs["disk_mb_s_alpha"]), num(bs["disk_mb_s_beta"]))])
row("  vCPU busy alpha/beta", "", [cpu(bs, "iperf3")])
row("  host CPU busy/stolen", "", [steal(bs, "iperf3")])
row("hablk C seq write (brd) / this iperf3", "", [ratio(ratios_null["seq_write_brd_vs_iperf3_beside_disks"])])

head("two primaries: hablk C, hablkd on both, 1 MiB extents", ["", "ratio", "target"])
for j, m in main.items():
    row("alpha alone: %s / hablk C" % jobs[j], "MB/s" if m == "mb_s" else "IOPS",
        [num(hd[j + "." + m]), ratio(ratios_dual["one_writer_vs_hablk_c"][jobs[j]]), ">= 0.95x"])
row("stayed connected through fio", "", ["yes" if hd["connected_after"] and du["connected_after"] else "NO"])
row("lock handover: wait per write / req/resp", "us",
    [num(du["handover_us"]), ratio(ratios_dual["handover_vs_rr"]), "<= 2x"])
row("  writes that waited", "", [num(du["handover_waits"])])
row("disjoint halves, seq 1 MiB QD8: alpha/beta", "MB/s",
    ["%s/%s" % (num(du["seq.alpha_mb_s"]), num(du["seq.beta_mb_s"]))])
row("  both / alpha alone", "MB/s", [num(du["seq.sum_mb_s"]),
                                     ratio(ratios_dual["disjoint_seq_sum_vs_one_writer"]), ">= 1.3x"])
row("  both / iperf3", "", ["", ratio(ratios_dual["disjoint_seq_sum_vs_iperf3"])])
row("  vCPU busy alpha/beta", "", [cpu(du, "seq")])
row("  host CPU busy/stolen", "", [steal(du, "seq")])
row("  lock grants+releases", "/s", [num(du["seq.lock_ops_s"]), "", "~0"])
row("disjoint halves, rand 4 KiB QD16: alpha/beta", "IOPS",
    ["%s/%s" % (num(du["qd16.alpha_iops"]), num(du["qd16.beta_iops"]))])
row("  both / alpha alone", "IOPS", [num(du["qd16.sum_iops"]),
                                     ratio(ratios_dual["disjoint_qd16_sum_vs_one_writer"])])
row("  vCPU busy alpha/beta", "", [cpu(du, "qd16")])
row("  lock grants+releases", "/s", [num(du["qd16.lock_ops_s"]), "", "~0"])
head("two primaries by lock extent", [e for e, _ in extents])
row("lock handover: wait per write", "us", [num(d["handover_us"]) for _, d in extents])
row("4 MiB stripes, rand 4 KiB 8xQD2 each: both", "IOPS", [num(d["stripes.sum_iops"]) for _, d in extents])
row("  alpha/beta", "IOPS", ["%s/%s" % (num(d["stripes.alpha_iops"]), num(d["stripes.beta_iops"]))
                             for _, d in extents])
row("  lock grants+releases", "/s", [num(d["stripes.lock_ops_s"]) for _, d in extents])

lines.append("")
lines.append("%-*s %-5s" % (W, "ratios (issue 5 targets)", "") +
             "".join("%11s" % c for c in ("hablk C", "hablk A", "DRBD C", "target")))
def trow(name, key, target):
    row(name, "", [ratio(ratios[key]), ratio(ratios_a[key]), ratio(ratios_drbd[key]), target])
trow("seq write / iperf3", "seq_write_vs_iperf3", ">= 0.95x")
trow("seq write / raw", "seq_write_vs_raw", "")
trow("QD1 mean lat / (req/resp + raw QD1)", "qd1_lat_mean_vs_rr_plus_raw", "C <= 1.2x")
trow("QD1 mean lat / nbd floor's", "qd1_lat_mean_vs_nbd", "")
trow("QD1 mean lat / req/resp", "qd1_lat_mean_vs_rr", "A <= 0.2x")
trow("QD1 p50 lat / req/resp", "qd1_lat_p50_vs_rr", "")
trow("QD16 IOPS / iperf3 in 4 KiB", "qd16_iops_vs_iperf3_4k", "")
trow("QD64 IOPS / iperf3 in 4 KiB", "qd64_iops_vs_iperf3_4k", "")
trow("QD16 IOPS / pipelined req/resp (16)", "qd16_iops_vs_rr16", "")
trow("QD64 IOPS / pipelined req/resp (64)", "qd64_iops_vs_rr64", "")
trow("QD16 IOPS / nbd floor's", "qd16_iops_vs_nbd", "")
trow("rand read QD16 IOPS / raw", "randread_qd16_iops_vs_raw", "")
trow("full sync rate / iperf3", "sync_vs_iperf3", ">= 0.9x")
trow("resync moved / dirty", "resync_link_vs_dirty", "<= 1.5x")
row("QD16 IOPS / DRBD's", "", [ratio(vs_drbd["qd16_iops"]),
                                ratio(div(ha["qd16.iops"], db["qd16.iops"])), "", ">= 3x"])

print("hablk benchmark  kernel %s  %s  commit %s" % (kver, date, commit))
print("2 QEMU TCG VMs (1 vCPU, %s MiB), UDP link, brd %s MiB disks, fio %s s per job, DRBD %s" %
      (mem, size, runtime, drbd_out["version"]))
for x in lines:
    print(x)
print()
print("req/resp: TCP 4 KiB -> 64 B round trip (pipelined: D always in flight, the rate a minimal")
print("          program reaches); iperf3 in 4 KiB = %s IOPS." % num(link_iops_4k))
print("nbd floor: the kernel's nbd client on alpha, served from beta's brd by scripts/nbdfloor.c:")
print("          one request and one reply per write, no replication; what the block layer, TCP")
print("          and the link cost together (req/resp pays only the last two).")
print("vCPU busy: % of each guest's one vCPU busy (/proc/stat) from just before a job to just after.")
print("per I/O, per request: eth0 packets out/in, interrupts of the virtio-net queues and context")
print("          switches on that guest over the same span, divided by the I/Os (requests) done;")
print("          they include fio's (rr's) start and exit.")
print("host CPU busy/stolen: % of this machine's CPU time (all its cores) busy, mostly the guests'")
print("          QEMU threads (100: every core busy all along), and % its own hypervisor gave to")
print("          others (steal in /proc/stat), same span: a job with more than a few % stolen")
print("          ran on a busy host. A fio")
print("          job with more than %d %% stolen ran again; (N): the figures are of the try with" % r["run"]["steal_max"])
print("          the least stolen, of N.")
print("null disks: null_blk, a write completes at once and copies nothing (metadata on brd);")
print("          brd / null: hablk C's figure on the brd disks above against this one.")
print("iperf3 beside both disks: fio writes each node's brd (1 MiB, O_DIRECT, QD1) at hablk C's")
print("          sequential rate while iperf3 runs: the link beside a replicated write's disk work.")
print("resync: %s %% of the device rewritten in 4 KiB random blocks while disconnected; moved =" % dirty_pct)
print("        alpha's eth0 bytes (frames, both ways) from connect to in sync.")
print("two primaries: lock handover = the kernel's mean wait of a write for its lock, the lock")
print("          moving at every write (one 4 KiB write at a time, alpha and beta in turn, one")
print("          extent); disjoint halves: alpha writes the first half of the device, beta the")
print("          second, at once, after a 2 s warm-up; stripes: alpha the even 4 MiB stripes of")
print("          64 MiB, beta the odd ones (false sharing where an extent spans two stripes).")
print("DRBD tuning: %s" % drbd_out["tuning"].replace("; ", ";\n             "))
print()
print("json: %s" % path)
