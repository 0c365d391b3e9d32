#!/usr/bin/env python3
"""Run one command and append one measurement (a JSON line) to a results file.

    measure.py RESULTS.jsonl SCENARIO BUILDER RUN [--daemon-pids PID,PID] -- CMD...

Wall time is taken around the child; CPU time (user+sys) and peak RSS come from wait4's
rusage of the child, which covers the child and every descendant it waited for. For a
daemon-based builder (BuildKit in dockerd) the client's numbers miss the work, so the
daemons' own CPU (utime+stime from /proc/PID/stat, before and after) is added, and their
peak RSS window is opened by writing 5 to /proc/PID/clear_refs (resets VmHWM) and read
back from VmHWM afterwards; the larger of client and daemon peaks is reported.
"""
import json
import os
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """utime+stime+cutime+cstime of a process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is state (field 3); utime is field 14 -> index 11
        return sum(int(x) for x in fields[11:15]) / CLK
    except OSError:
        return 0.0


def proc_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 5:
        sys.exit(__doc__)
    sep = args.index("--")
    head, cmd = args[:sep], args[sep + 1:]
    out, scenario, builder, run = head[:4]
    daemons = []
    if len(head) > 5 and head[4] == "--daemon-pids":
        daemons = [int(p) for p in head[5].split(",") if p]
    log = os.environ.get("MEASURE_LOG", "/dev/null")

    for pid in daemons:
        reset_hwm(pid)
    cpu0 = sum(proc_cpu(p) for p in daemons)
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    daemon_cpu = sum(proc_cpu(p) for p in daemons) - cpu0
    daemon_rss = max([proc_hwm_kb(p) for p in daemons] or [0])
    rc = os.waitstatus_to_exitcode(status)
    rec = {
        "scenario": scenario,
        "builder": builder,
        "run": int(run),
        "wall_s": round(wall, 4),
        "cpu_s": round(ru.ru_utime + ru.ru_stime + daemon_cpu, 4),
        "client_cpu_s": round(ru.ru_utime + ru.ru_stime, 4),
        "daemon_cpu_s": round(daemon_cpu, 4),
        "maxrss_kb": max(ru.ru_maxrss, daemon_rss),
        "client_maxrss_kb": ru.ru_maxrss,
        "daemon_maxrss_kb": daemon_rss,
        "rc": rc,
    }
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"  {scenario:<18} {builder:<8} run {run}: {wall:7.3f}s wall "
          f"{rec['cpu_s']:7.3f}s cpu {rec['maxrss_kb'] / 1024:7.1f} MB rc={rc}",
          file=sys.stderr)
    sys.exit(0 if rc == 0 else 1)


if __name__ == "__main__":
    main()
