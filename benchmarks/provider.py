#!/usr/bin/env python3
"""Prints the provider's start-up and footprint figures.

What it measures: benchmarks/README.md, "provider.py".
Usage: benchmarks/provider.py [path/to/terraform-provider-imagecopier]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import BAKE, REGION, ROOT, SCRUBBED_PREFIXES, TERRAFORM, StandIn, dev_overrides

COOKIE = ("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
RUNS = 20


def handshake_seconds(binary, client_pem):
    env = dict(os.environ, PLUGIN_PROTOCOL_VERSIONS="6", PLUGIN_CLIENT_CERT=client_pem)
    env[COOKIE[0]] = COOKIE[1]
    start = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.terminate()
    proc.wait(timeout=10)
    if not line.startswith(b"1|6|tcp|127.0.0.1:"):
        raise SystemExit(f"unexpected handshake line: {line!r}")
    return elapsed


def client_certificate():
    # Any self-signed PEM will do: the plugin only pins it.
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = os.path.join(tmp, "k"), os.path.join(tmp, "c")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521",
                        "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "1"],
                       check=True, capture_output=True)
        with open(cert) as f:
            return f.read()


def plan_peak_rss_kib(binary):
    """The provider's VmHWM during a `terraform plan` of one test resource, against a stand-in."""
    with tempfile.TemporaryDirectory() as wd:
        standin = StandIn(wd)
        try:
            with open(os.path.join(wd, "cli.tfrc"), "w") as f:
                f.write(dev_overrides(os.path.dirname(os.path.abspath(binary))))
            with open(os.path.join(wd, "main.tf"), "w") as f:
                f.write('terraform {\n required_providers {\n'
                        ' imagecopier = { source = "imagecopier/imagecopier" }\n }\n}\n'
                        'provider "imagecopier" {}\n'
                        f'resource "imagecopier_test_wait" "x" {{\n seconds = 0\n marker_file = "{wd}/m"\n}}\n')
            env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
            env.update(TF_CLI_CONFIG_FILE=os.path.join(wd, "cli.tfrc"), CHECKPOINT_DISABLE="1",
                       TF_LOG_PROVIDER="debug", AWS_ACCESS_KEY_ID=BAKE, AWS_SECRET_ACCESS_KEY="x",
                       AWS_REGION=REGION, AWS_ENDPOINT_URL=standin.endpoint, IMAGECOPIER_TEST_RESOURCES="1")
            out = subprocess.run([*TERRAFORM, f"-chdir={wd}", "plan", "-no-color"], env=env, capture_output=True,
                                 text=True, timeout=300)
        finally:
            standin.close()
    for line in out.stderr.splitlines():
        if "plugin server stopped" in line and "peak_rss_kib" in line:
            payload = line[line.index("{"):] if "{" in line else ""
            try:
                return int(json.loads(payload)["peak_rss_kib"])
            except (ValueError, KeyError):
                pass
            return int(line.split("peak_rss_kib=")[1].split()[0])
    raise SystemExit("no peak_rss_kib in the provider's log:\n" + out.stderr[-2000:])


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/debug/terraform-provider-imagecopier")
    pem = client_certificate()
    times = sorted(handshake_seconds(binary, pem) for _ in range(RUNS))
    print(f"binary: {binary}")
    print(f"binary size: {os.path.getsize(binary) / 2**20:.1f} MiB")
    print(f"start to handshake line: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {times[-1] * 1000:.1f} ms over {RUNS} runs")
    print(f"provider peak RSS during terraform plan: {plan_peak_rss_kib(binary) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
