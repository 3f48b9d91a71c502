#!/usr/bin/env python3
"""Indexing and search benchmark through the real tessera-server (issue 3, item 8).

Run by bench/index_and_search.sh, which builds the programs and the corpora first. For each
corpus size N:
  1. the ceiling: bench_dcmtk_header_parse (bare DCMTK header parse, one process, one thread;
     beside it Tessera's own reader on one and two threads), median of the runs;
  2. indexing: a fresh server per run (port 0, temp data dir, the corpus as a `file` root),
     POST /management/tasks/index, poll GET /index/task until complete; files/s = N / elapsed;
     the server's RSS sampled from /proc/<pid>/status during the run (peak = VmHWM); CPU time
     used / elapsed = cores busy; index size on disk per instance;
  3. after the last indexing run, search latency through REST for ten query kinds
     (bench_rest_latency, one keep-alive connection).
Prints a table and writes bench/results/latest.md. Uses only the standard library.
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

TARGET_RATIO = 0.50  # indexing files/s >= 50 % of the bare DCMTK ceiling
TARGET_RSS_MB = 300  # resident memory while indexing, at 100,000 files
TARGET_P50_MS = 5.0  # p50 for exact and range queries
EXACT_OR_RANGE = {"exact-uid", "patient-id", "date-range"}


def log(message):
    print(message, file=sys.stderr, flush=True)


def xapian_settings():
    """The xapian plugin's section when XAPIAN_SHARDS is set (an A/B of the shard count with
    one build); empty otherwise, so the plugin's defaults apply."""
    shards = os.environ.get("XAPIAN_SHARDS", "")
    if not shards:
        return ""
    return '    <plugin name="xapian"><setting key="shards">%s</setting></plugin>\n' % xml_escape(shards)


class Server:
    """One tessera-server process in its own data directory."""

    def __init__(self, binary, data_dir, corpus_dir):
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        # Only what the benchmark needs; the server adds every other default. No DICOM
        # listeners: they are not part of this measurement.
        with open(os.path.join(data_dir, "server.xml"), "w", encoding="utf-8") as f:
            f.write(
                "<config>\n"
                '  <web-server autostart="true" port="0" hostname="127.0.0.1"/>\n'
                "  <dicom-services>\n"
                '    <storage autostart="false" port="0"/>\n'
                '    <query-retrieve autostart="false" port="0"/>\n'
                "  </dicom-services>\n"
                "  <plugins>\n"
                '    <plugin name="file"><setting key="roots">%s</setting></plugin>\n'
                "%s"
                "  </plugins>\n"
                "</config>\n" % (xml_escape(corpus_dir), xapian_settings())
            )
        self.stderr_path = os.path.join(data_dir, "server.stderr")
        self.stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(
            [binary, "--data-dir", data_dir, "--http-port", "0", "--storage-port", "0", "--query-port", "0"],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        self.port = self._wait_for_port()
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        self.token = None

    def _wait_for_port(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            match = re.search(rb"tessera-server listening http=[^ ]*:(\d+)", line)
            if match:
                return int(match.group(1))
        self.stop()
        raise RuntimeError("tessera-server did not start; log:\n" + self.log_tail())

    @property
    def pid(self):
        return self.process.pid

    def log_tail(self, lines=30):
        try:
            with open(self.stderr_path, "r", encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def request(self, method, path, form=None, timeout=120):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {}
        body = None
        if self.token:
            headers["Authorization"] = self.token
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif method == "POST":
            headers["Content-Length"] = "0"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data

    def json(self, method, path, form=None):
        status, data = self.request(method, path, form)
        if status != 200:
            raise RuntimeError("%s %s: HTTP %d: %s" % (method, path, status, data[:300].decode("utf-8", "replace")))
        return json.loads(data)

    def login(self):
        self.token = self.json("POST", "/login", {"username": "dicoogle", "password": "dicoogle"})["token"]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()
        return self.process.returncode


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def proc_status(pid):
    """VmRSS and VmHWM in bytes (None once the process is gone)."""
    values = {}
    try:
        with open("/proc/%d/status" % pid, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    values[key] = int(value.split()[0]) * 1024
    except OSError:
        return None
    return values


def cpu_seconds(pid):
    """User + system CPU time of the process (all threads) in seconds."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is fields[0], utime fields[11], stime fields[12].
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples VmRSS every `interval` seconds until stopped; keeps the maximum and a count."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            status = proc_status(self.pid)
            if status is None:
                return
            self.peak = max(self.peak, status.get("VmRSS", 0))
            self.samples += 1
            self.done.wait(self.interval)

    def stop(self):
        self.done.set()
        self.join()


def disk_usage(path):
    """Bytes allocated on disk under path (what du reports) and the apparent size."""
    allocated = apparent = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            allocated += st.st_blocks * 512
            apparent += st.st_size
    return allocated, apparent


def index_once(args, n, corpus_dir, run, keep_server):
    data_dir = tempfile.mkdtemp(prefix="tessera-bench-n%d-r%d-" % (n, run), dir=args.work_dir)
    server = Server(args.server, data_dir, corpus_dir)
    try:
        server.login()
        before = proc_status(server.pid)
        sampler = RssSampler(server.pid)
        sampler.start()
        cpu_start = cpu_seconds(server.pid)
        start = time.monotonic()
        answer = server.json("POST", "/management/tasks/index?uri=" + urllib.parse.quote("file:" + corpus_dir, safe=""))
        tasks = answer.get("tasks", [])
        if not tasks:
            raise RuntimeError("POST /management/tasks/index created no task: %r" % answer)
        uids = {task["uid"] for task in tasks}
        progress_seen = set()
        finished = {}
        deadline = start + args.index_timeout
        while len(finished) < len(uids):
            if time.monotonic() > deadline:
                raise RuntimeError("indexing did not finish within %d s" % args.index_timeout)
            time.sleep(args.poll_interval)
            for task in server.json("GET", "/index/task").get("results", []):
                if task.get("taskUid") not in uids:
                    continue
                progress = task.get("taskProgress")
                if isinstance(progress, (int, float)) and 0 < progress < 1:
                    progress_seen.add(round(progress, 3))
                if task.get("complete") or task.get("canceled"):
                    finished[task["taskUid"]] = task
        elapsed = time.monotonic() - start
        cpu_used = cpu_seconds(server.pid) - cpu_start
        sampler.stop()
        after = proc_status(server.pid) or {}
        n_indexed = sum(int(task.get("nIndexed", 0)) for task in finished.values())
        n_errors = sum(int(task.get("nErrors", 0)) for task in finished.values())
        canceled = any(task.get("canceled") for task in finished.values())
        for uid in uids:
            server.json("POST", "/index/task", {"uid": uid, "type": "close"})
        index_dir = os.path.join(data_dir, "plugin-data", "xapian", "index")
        allocated, apparent = disk_usage(index_dir) if os.path.isdir(index_dir) else (0, 0)
        result = {
            "run": run,
            "elapsed": elapsed,
            "server_elapsed_ms": sum(float(task.get("elapsedTime", 0)) for task in finished.values()),
            "files_per_s": n / elapsed,
            "n_indexed": n_indexed,
            "n_errors": n_errors,
            "canceled": canceled,
            "progress_values": len(progress_seen),
            "rss_before": (before or {}).get("VmRSS", 0),
            "rss_peak_sampled": sampler.peak,
            "rss_hwm": after.get("VmHWM", sampler.peak),
            "rss_after": after.get("VmRSS", 0),
            "rss_samples": sampler.samples,
            "cores_busy": cpu_used / elapsed,
            "cpu_us_per_file": cpu_used * 1e6 / n,
            "index_bytes": allocated,
            "index_apparent_bytes": apparent,
        }
        log(
            "  index run %d: %.1f s, %.1f files/s, indexed %d, errors %d, peak RSS %.0f MB, %.2f cores, "
            "%.0f us CPU/file, index %.0f B/instance"
            % (run, elapsed, result["files_per_s"], n_indexed, n_errors, result["rss_hwm"] / 1e6,
               result["cores_busy"], result["cpu_us_per_file"], allocated / max(n_indexed, 1))
        )
        if keep_server:
            return result, server
        server.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        return result, None
    except BaseException:
        log("server log tail:\n" + server.log_tail())
        server.stop()
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise


def ceiling(args, corpus_dir):
    output = subprocess.run(
        [args.parse_bench, corpus_dir, "--runs", str(args.runs), "--tsv"],
        check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if output.returncode not in (0, 3):
        raise RuntimeError("bench_dcmtk_header_parse failed: " + output.stderr)
    medians, cpu, runs = {}, {}, {}
    for line in output.stdout.splitlines():
        fields = line.split("\t")
        if fields[0] == "median":
            medians[fields[1]] = float(fields[2])
            cpu[fields[1]] = float(fields[3])
        elif fields[0] == "run":
            runs.setdefault(fields[1], []).append({"seconds": float(fields[4]), "rate": float(fields[5]),
                                                   "ok": int(fields[6]), "failed": int(fields[7]),
                                                   "cpu_us_per_file": float(fields[8])})
    for reader, values in runs.items():
        log("  %-11s %s files/s (failed: %d)" % (reader, ", ".join("%.0f" % v["rate"] for v in values),
                                                  sum(v["failed"] for v in values)))
    return {"medians": medians, "cpu_us_per_file": cpu, "runs": runs}


def choose_queries(manifest_path, n):
    """Ten query kinds with values taken from the corpus manifest, so each one has hits."""
    with open(manifest_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if len(rows) != n:
        raise RuntimeError("%s has %d rows, expected %d" % (manifest_path, len(rows), n))
    # A row near the middle with a plain Latin family name and a CT or MR study.
    row = None
    for candidate in rows[n // 2:] + rows[: n // 2]:
        family = candidate["PatientName"].split("^")[0]
        if re.fullmatch(r"[A-Za-z]{5,}", family) and candidate["Modality"] in ("CT", "MR"):
            row = candidate
            break
    if row is None:
        raise RuntimeError("no suitable row in " + manifest_path)
    family = row["PatientName"].split("^")[0].lower()
    date = row["StudyDate"]
    year = date[:4]
    words = [w for w in re.split(r"[^A-Za-z]+", row["StudyDescription"]) if len(w) >= 4]
    word = max(words, key=len).lower() if words else family
    other = "MR" if row["Modality"] == "CT" else "CT"
    search = lambda q, extra="": "/search?query=" + urllib.parse.quote(q, safe="") + extra
    page = "&psize=100"
    return [
        ("exact-uid", search("SOPInstanceUID:" + row["SOPInstanceUID"])),
        ("patient-id", search("PatientID:" + row["PatientID"])),
        ("wildcard-name", search("PatientName:%s*" % family[:3], page)),
        ("leading-wild", search("PatientName:*%s" % family[-4:], page)),
        ("date-range", search("StudyDate:[%s01 TO %s28]" % (date[:6], date[:6]), page)),
        ("modality", search("Modality:" + row["Modality"], page)),
        ("free-text", search(word, page)),
        ("and-or", search("(Modality:%s OR Modality:%s) AND PatientSex:%s AND StudyDate:[%s0101 TO %s1231]"
                          % (row["Modality"], other, row["PatientSex"], year, year), page)),
        ("all-paged", search("*:*", "&psize=25&offset=1000")),
        ("dim-study", "/searchDIM?query=" + urllib.parse.quote("PatientName:" + family, safe="") + "&depth=study"),
    ]


def latency(args, server, queries):
    command = [args.latency_bench, "--port", str(server.port), "--token", server.token, "--warmup", str(args.warmup),
               "--requests", str(args.requests), "--tsv"] + ["%s=%s" % (name, path) for name, path in queries]
    output = subprocess.run(command, check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if output.stderr:
        log(output.stderr.rstrip())
    rows = {}
    for line in output.stdout.splitlines():
        kind, requests, p50, p95, p99, mean, worst, hits, size = line.split("\t")
        rows[kind] = {"requests": int(requests), "p50": float(p50), "p95": float(p95), "p99": float(p99),
                      "mean": float(mean), "max": float(worst), "hits": int(hits), "bytes": int(size)}
    return rows


def machine_description(load_at_start):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = "%.1f GB RAM" % (int(f.readline().split()[1]) / 1024 / 1024)
    except OSError:
        pass
    load = "load average %.2f %.2f %.2f at start, %.2f %.2f %.2f at the end" % (load_at_start + os.getloadavg())
    return "%s, %d cores, %s, %s %s; %s" % (cpu, os.cpu_count() or 0, memory, platform.system(), platform.release(),
                                            load)


def mark(ok):
    return "met" if ok else "MISSED"


def report(args, results, started):
    lines = []
    add = lines.append
    add("# Tessera indexing and search benchmark")
    add("")
    add("- Date: %s" % started.strftime("%Y-%m-%d %H:%M %Z").strip())
    add("- Machine: %s" % machine_description(args.load_at_start))
    if max(args.load_at_start[0], os.getloadavg()[0]) > (os.cpu_count() or 1):
        add("- **The machine was busy with other work** (load above its core count): wall-time rates and "
            "latencies are lower bounds of what it does alone; the CPU-time table is the steadier comparison.")
    add("- Commit: %s" % args.commit)
    add("- Runs per figure: %d (medians); latency: %d warm-up + %d timed requests per kind, one keep-alive "
        "connection" % (args.runs, args.warmup, args.requests))
    add("")
    add("## Indexing")
    add("")
    add("| N | DCMTK ceiling files/s (1 thread) | DCMTK 2 threads | Tessera reader 1t / 2t | indexing files/s | ratio "
        "(target ≥ %.0f %%) | elapsed s | cores busy | peak RSS MB (target < %d at 100k) | index B/instance | "
        "indexed / errors |" % (TARGET_RATIO * 100, TARGET_RSS_MB))
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, result in results.items():
        c = result["ceiling"]["medians"]
        runs = result["index"]
        rate = statistics.median(r["files_per_s"] for r in runs)
        ratio = rate / c["dcmtk-1t"] if c.get("dcmtk-1t") else 0
        peak = max(r["rss_hwm"] for r in runs) / 1e6
        per_instance = statistics.median(r["index_bytes"] / max(r["n_indexed"], 1) for r in runs)
        rss_cell = "%.0f" % peak
        if n >= 100000:
            rss_cell += " (%s)" % mark(peak < TARGET_RSS_MB)
        add("| %d | %.0f | %.0f | %.0f / %.0f | %.0f | %.0f %% (%s) | %.1f | %.2f | %s | %.0f | %s |" % (
            n, c.get("dcmtk-1t", 0), c.get("dcmtk-2t", 0), c.get("tessera-1t", 0), c.get("tessera-2t", 0), rate, ratio * 100,
            mark(ratio >= TARGET_RATIO), statistics.median(r["elapsed"] for r in runs),
            statistics.median(r["cores_busy"] for r in runs), rss_cell, per_instance,
            " · ".join("%d / %d" % (r["n_indexed"], r["n_errors"]) for r in runs)))
    add("")
    add("CPU time per file (µs; process CPU time, all threads — unlike wall time it does not depend on what "
        "else the machine runs). Projected ratio = what both cores fully busy would give: "
        "(2 / server CPU per file) ÷ (1 / DCMTK CPU per file); an upper bound for this build on an idle machine.")
    add("")
    add("| N | DCMTK 1t | DCMTK 2t | Tessera reader 1t | Tessera reader 2t | server while indexing | "
        "projected ratio (target ≥ %.0f %%) |" % (TARGET_RATIO * 100))
    add("|---:|---:|---:|---:|---:|---:|---:|")
    for n, result in results.items():
        c = result["ceiling"]["cpu_us_per_file"]
        server_cpu = statistics.median(r["cpu_us_per_file"] for r in result["index"])
        projected = 2 * c.get("dcmtk-1t", 0) / server_cpu if server_cpu else 0
        add("| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f %% (%s) |" % (
            n, c.get("dcmtk-1t", 0), c.get("dcmtk-2t", 0), c.get("tessera-1t", 0), c.get("tessera-2t", 0),
            server_cpu, projected * 100, mark(projected >= TARGET_RATIO)))
    add("")
    add("Per run (files/s): " + "; ".join(
        "N=%d: %s" % (n, ", ".join("%.0f" % r["files_per_s"] for r in result["index"]))
        for n, result in results.items()))
    add("")
    add("- Ceiling: `bench_dcmtk_header_parse` parses every file's header up to PixelData with bare DCMTK "
        "(`DcmFileFormat::loadFileUntilTag`) in one thread, page cache warm (also on two threads, for how "
        "DCMTK itself scales); the Tessera columns run `tessera::core::readDicomFile` (parse + copy to a "
        "UTF-8 `DicomObjectView`) on the same files. All reader figures are files/s, medians.")
    add("- Indexing: a fresh `tessera-server` per run, `POST /management/tasks/index?uri=file:<corpus>`, "
        "`GET /index/task` polled every %.1f s until `complete`; files/s = N / wall time from the POST to the "
        "poll that saw `complete`. Peak RSS is the server's VmHWM (whole process life, start-up included); "
        "cores busy = server CPU time / wall time. Index size: bytes allocated under "
        "`<data>/plugin-data/xapian/index` / instances indexed." % args.poll_interval)
    add("")
    for n, result in results.items():
        if not result.get("queries"):
            continue
        add("## Search latency through REST at N = %d" % n)
        add("")
        add("| kind | query | hits | p50 ms | p95 ms | p99 ms | target |")
        add("|---|---|---:|---:|---:|---:|---|")
        for kind, path in result["queries"]:
            row = result.get("latency", {}).get(kind)
            shown = urllib.parse.unquote(path).replace("|", "\\|")
            if row is None:
                add("| %s | `%s` | – | failed | | | |" % (kind, shown))
                continue
            target = ""
            if kind in EXACT_OR_RANGE:
                target = "p50 ≤ %.0f ms: %s" % (TARGET_P50_MS, mark(row["p50"] <= TARGET_P50_MS))
            hits = str(row["hits"]) if row["hits"] > 0 else "%d (NO HITS)" % row["hits"]
            add("| %s | `%s` | %s | %.2f | %.2f | %.2f | %s |" % (kind, shown, hits, row["p50"], row["p95"],
                                                                  row["p99"], target))
        add("")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--parse-bench", required=True)
    parser.add_argument("--latency-bench", required=True)
    parser.add_argument("--corpus", action="append", required=True, metavar="N:DIR:MANIFEST")
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--poll-interval", type=float, default=0.1)
    parser.add_argument("--index-timeout", type=int, default=7200)
    parser.add_argument("--keep", action="store_true", help="keep the servers' data directories")
    args = parser.parse_args()
    if args.runs < 1 or args.requests < 1:
        parser.error("--runs and --requests must be positive")
    os.makedirs(args.work_dir, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    args.load_at_start = os.getloadavg()

    results = {}
    for spec in args.corpus:
        n_text, corpus_dir, manifest = spec.split(":", 2)
        n = int(n_text)
        log("N = %d: ceiling (%d runs)" % (n, args.runs))
        result = {"ceiling": ceiling(args, corpus_dir), "index": []}
        result["queries"] = choose_queries(manifest, n)
        log("N = %d: indexing through the server (%d runs)" % (n, args.runs))
        server = None
        for run in range(1, args.runs + 1):
            outcome, kept = index_once(args, n, corpus_dir, run, keep_server=(run == args.runs))
            result["index"].append(outcome)
            server = kept or server
        log("N = %d: search latency (%d kinds)" % (n, len(result["queries"])))
        try:
            result["latency"] = latency(args, server, result["queries"])
        finally:
            server.stop()
            if not args.keep:
                shutil.rmtree(server.data_dir, ignore_errors=True)
        results[n] = result

    text = report(args, results, started)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump({str(n): r for n, r in results.items()}, f, indent=1)
    print(text)
    log("written to " + args.out)


if __name__ == "__main__":
    main()
