#!/usr/bin/env python3
"""Issue 5's benchmark: Tessera's DICOM services against Orthanc, same client, same run.

For each server (a fresh one per measurement, on loopback, ports picked at run time):
  1. C-STORE the corpus over 1 association, then (fresh server) over 4 associations:
     instances/s. Both servers make each instance durable before answering (Tessera fsyncs;
     Orthanc runs with SyncStorageArea=true as Debian ships it, TcpNoDelay=true).
  2. On the 4-association server: study-level C-FIND p50/p95 inside one association for
     PatientID, PatientName wildcard, StudyDate range and ModalitiesInStudy.
  3. C-MOVE of the first M studies to a DCMTK `storescp` started here: MB/s (bytes that arrived
     / wall time).
Medians of --runs runs; ratios Tessera/Orthanc (C-FIND: Tessera p50 / Orthanc p50).
The client is bench_dicom_network (bench/dicom_network_bench.cpp), one code path for both.
"""
import argparse
import csv
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

RECEIVER_AE = "BENCHRECV"

# DCMTK (in Orthanc, in the client, in storescp) leaves Nagle's algorithm on unless TCP_NODELAY=1
# is in the environment; the issue asks for Orthanc with TCP_NODELAY=1, and every process here
# gets it (Tessera sets TCP_NODELAY on its associations itself).
os.environ["TCP_NODELAY"] = "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


class Tessera:
    name = "tessera"

    def __init__(self, binary, work):
        self.data = tempfile.mkdtemp(prefix="tessera-", dir=work)
        self.process = subprocess.Popen(
            [binary, "--data-dir", self.data, "--http-port", "0", "--storage-port", "0", "--query-port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        ports = dict(re.findall(r"(\w+)=[^ ]*:(\d+)", line))
        if "storage" not in ports or "query" not in ports:
            self.stop()
            raise RuntimeError("tessera-server did not report its DICOM ports: %r" % line)
        self.http, self.storage_port, self.query_port = int(ports["http"]), int(ports["storage"]), int(ports["query"])
        self.aet = "DICOOGLE-STORAGE"
        self.token = self._post("/login", {"username": "dicoogle", "password": "dicoogle"})["token"]

    def _post(self, path, form):
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.http, path),
                                         data=urllib.parse.urlencode(form).encode(), method="POST")
        if getattr(self, "token", None):
            request.add_header("Authorization", self.token)
        with urllib.request.urlopen(request) as answer:
            body = answer.read()
        return json.loads(body) if body else {}

    def add_destination(self, aet, port):
        self._post("/management/settings/storage/dicom",
                   {"type": "add", "aetitle": aet, "ip": "127.0.0.1", "port": str(port)})

    def rss_mb(self):
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data, ignore_errors=True)


class Orthanc:
    name = "orthanc"

    def __init__(self, binary, work, destination_port=None):
        self.data = tempfile.mkdtemp(prefix="orthanc-", dir=work)
        self.http, self.storage_port = free_port(), free_port()
        self.query_port = self.storage_port
        self.aet = "ORTHANC"
        modalities = {"recv": [RECEIVER_AE, "127.0.0.1", destination_port]} if destination_port else {}
        config = {
            "Name": "bench", "StorageDirectory": self.data + "/db", "IndexDirectory": self.data + "/db",
            "HttpPort": self.http, "DicomPort": self.storage_port, "DicomAet": self.aet,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "Plugins": [],
            # As Debian ships it: every write synced, TCP_NODELAY on.
            "SyncStorageArea": True, "TcpNoDelay": True,
            "DicomModalities": modalities, "DicomThreadsCount": 4,
            # The bench client is not a registered modality: let it query and retrieve.
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowMove": True, "DicomAlwaysAllowGet": True,
        }
        path = os.path.join(self.data, "orthanc.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.process = subprocess.Popen([binary, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.http)
        wait_port(self.storage_port)

    def add_destination(self, aet, port):
        pass  # configured at start

    def rss_mb(self):
        return 0.0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.data, ignore_errors=True)


def client(args, server, port, *extra):
    command = [args.client, extra[0], "--port", str(port), "--called", server.aet] + list(extra[1:])
    out = subprocess.run(command, check=False, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def find_kinds(manifest):
    with open(manifest) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    middle = rows[len(rows) // 2]
    name = middle["PatientName"].split("^")[0]
    date = middle["StudyDate"]
    return [
        "patient-id=PatientID=" + middle["PatientID"],
        "name-wildcard=PatientName=" + name[:4] + "*",
        "date-range=StudyDate=" + date[:6] + "01-" + date[:6] + "28",
        "modalities=ModalitiesInStudy=" + middle["Modality"],
    ], rows


def store(args, server, associations):
    extra = ["--limit", str(args.limit)] if args.limit else []
    (line,) = client(args, server, server.storage_port, "store", "--dir", args.corpus,
                     "--associations", str(associations), *extra)
    stored, seconds, failures = int(line[1]), float(line[3]), int(line[4])
    return stored / seconds, failures


def one_run(args, make_server, kinds, studies, work):
    result = {}
    server = make_server(None)
    try:
        result["store1"], result["store1_failures"] = store(args, server, 1)
    finally:
        server.stop()

    # A fresh server that knows the C-MOVE receiver: filled over 4 associations, then queried,
    # then asked to move.
    receive_dir = tempfile.mkdtemp(prefix="recv-", dir=work)
    receive_port = free_port()
    receiver = subprocess.Popen(["storescp", "+xa", "-aet", RECEIVER_AE, "-od", receive_dir, str(receive_port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        wait_port(receive_port)
        server = make_server(receive_port)
        server.add_destination(RECEIVER_AE, receive_port)
        result["store4"], result["store4_failures"] = store(args, server, 4)
        for line in client(args, server, server.query_port, "find", "--warmup", "10", "--requests",
                           str(args.requests), *kinds):
            result["find_" + line[1]] = {"matches": int(line[2]), "p50": float(line[3]), "p95": float(line[4])}
        (line,) = client(args, server, server.query_port, "move", "--dest", RECEIVER_AE, *studies)
        completed, failed, seconds = int(line[2]), int(line[3]), float(line[4])
        result["move_mbps"] = dir_bytes(receive_dir) / 1e6 / seconds
        result["move_completed"], result["move_failed"] = completed, failed
        result["peak_rss_mb"] = server.rss_mb()
    finally:
        if server:
            server.stop()
        receiver.terminate()
        receiver.wait()
        shutil.rmtree(receive_dir, ignore_errors=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="tessera-server binary")
    parser.add_argument("--orthanc", default=shutil.which("Orthanc") or "/usr/sbin/Orthanc")
    parser.add_argument("--client", required=True, help="bench_dicom_network binary")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="store only the first N files (a quick check)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--move-studies", type=int, default=40)
    parser.add_argument("--only", choices=["tessera", "orthanc"])
    parser.add_argument("--report", default=None, help="write the markdown report here too")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)

    kinds, rows = find_kinds(args.manifest)
    studies = list(dict.fromkeys(row["StudyInstanceUID"] for row in rows))[: args.move_studies]
    makers = {
        "tessera": lambda port: Tessera(args.server, args.work),
        "orthanc": lambda port: Orthanc(args.orthanc, args.work, port),
    }
    names = [args.only] if args.only else ["tessera", "orthanc"]
    runs = {name: [] for name in names}
    for run in range(args.runs):
        for name in names:
            load = os.getloadavg()[0]
            outcome = one_run(args, makers[name], kinds, studies, args.work)
            outcome["load"] = load
            runs[name].append(outcome)
            print("run %d %s: %s" % (run + 1, name, json.dumps(outcome)), file=sys.stderr)

    def median(name, key, sub=None):
        values = [r[key][sub] if sub else r[key] for r in runs[name]]
        return statistics.median(values)

    lines = ["# DICOM services: Tessera vs Orthanc", "",
             "N = %d files (%s), %d runs, medians; C-FIND %d timed requests per kind in one association; "
             "C-MOVE of %d studies." % (len(rows), args.corpus, args.runs, args.requests, len(studies)), "",
             "| figure | " + " | ".join(names) + (" | ratio | target |" if len(names) == 2 else " |"),
             "|---|" + "---:|" * len(names) + ("---:|---|" if len(names) == 2 else "")]

    def row(label, key, sub=None, better_high=True, target=None):
        values = [median(name, key, sub) for name in names]
        cells = ["%.2f" % v for v in values]
        if len(names) == 2:
            ratio = values[0] / values[1] if values[1] else float("inf")
            if target is None:
                cells += ["%.2f×" % ratio, ""]
            else:
                met = (ratio >= target) if better_high else (ratio <= target)
                goal = ("≥ %.1f×" if better_high else "≤ %.1f×") % target
                cells += ["%.2f×" % ratio, goal + (" met" if met else " MISSED")]
        lines.append("| %s | %s |" % (label, " | ".join(cells)))

    row("C-STORE instances/s, 1 association", "store1", target=2.0)
    row("C-STORE instances/s, 4 associations", "store4", target=2.0)
    for kind in kinds:
        kname = kind.split("=")[0]
        row("C-FIND %s p50 ms" % kname, "find_" + kname, "p50", better_high=False, target=0.5)
        row("C-FIND %s p95 ms" % kname, "find_" + kname, "p95", better_high=False, target=None)
    row("C-MOVE MB/s", "move_mbps", target=2.0)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.report:
        with open(args.report, "w") as f:
            f.write(report)
            f.write("\nRuns:\n\n```json\n" + json.dumps(runs, indent=1) + "\n```\n")


if __name__ == "__main__":
    main()
