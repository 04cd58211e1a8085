#!/usr/bin/env python3
"""relsite deploy against a real S3-compatible store, beside `aws s3 sync` of the same output.

Starts Garage on loopback (a single node, as tests/testsuite/garage.rs does), generates a catalog
of N apps x M builds with IPAs of S MiB (bench/catalog.py's generator), builds it, then times each
fresh process and reports its peak RSS:

    first deploy          relsite deploy into an empty prefix
      vs aws s3 sync      the same public/ into another empty prefix
    add one build         a fresh runner (relsite.yaml and the new build only):
                          relsite deploy --from-published
      vs aws s3 sync      a fresh checkout of the whole output (new mtimes) synced again
    no-change deploy      relsite deploy again: seconds, and objects uploaded (expected 0)
    one large IPA         a site with one IPA of --big-mb MiB deployed: peak RSS

Needs Python 3.9+, garage (`cargo install garage --locked`), the aws command line
(`pip install awscli`), GNU time, openssl and an up-to-date release binary:

    cargo build --release && python3 bench/deploy.py                 # 20 x 25 x 8 MiB
    python3 bench/deploy.py --apps 40                                # 1,000 builds
    python3 bench/deploy.py --quick                                  # 3 x 4 x 1 MiB, no large IPA

Ratios are of the same session: the machine is shared and noisy.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalog  # noqa: E402

BINARY = catalog.BINARY


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def garage_binary():
    found = shutil.which("garage")
    if found:
        return found
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    candidate = os.path.join(home, "bin", "garage")
    if os.access(candidate, os.X_OK):
        return candidate
    sys.exit("garage is missing: cargo install garage --locked")


class Garage:
    def __init__(self, work):
        self.dir = os.path.join(work, "garage")
        os.makedirs(self.dir)
        rpc, self.s3, web, admin = free_port(), free_port(), free_port(), free_port()
        self.config = os.path.join(self.dir, "garage.toml")
        with open(self.config, "w") as f:
            f.write(f"""metadata_dir = "{self.dir}/meta"
data_dir = "{self.dir}/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{'0f' * 32}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{self.s3}"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:{web}"
root_domain = ".web.garage.localhost"
index = "index.html"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
""")
        self.log = open(os.path.join(self.dir, "garage.log"), "w")
        self.server = subprocess.Popen([garage_binary(), "-c", self.config, "server"], stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.s3), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("garage did not start")
                time.sleep(0.1)
        status = self.cli("status")
        node = re.search(r"^([0-9a-f]{16})\s", status, re.M).group(1)
        self.cli("layout", "assign", "-z", "dc1", "-c", "100G", node)
        self.cli("layout", "apply", "--version", "1")
        self.cli("bucket", "create", "bench")
        key = self.cli("key", "create", "bench")
        self.key_id = re.search(r"Key ID:\s*(\S+)", key).group(1)
        self.secret = re.search(r"Secret key:\s*(\S+)", key).group(1)
        self.cli("bucket", "allow", "--read", "--write", "--owner", "bench", "--key", "bench")
        self.endpoint = f"http://127.0.0.1:{self.s3}"

    def cli(self, *args):
        out = subprocess.run([garage_binary(), "-c", self.config, *args], capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"garage {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout + out.stderr

    def env(self):
        env = dict(os.environ)
        env.update(AWS_ACCESS_KEY_ID=self.key_id, AWS_SECRET_ACCESS_KEY=self.secret,
                   AWS_DEFAULT_REGION="garage", AWS_REGION="garage")
        return env

    def stop(self):
        self.server.kill()
        self.server.wait()


def config(garage, prefix):
    return (f"title: Bench catalog\nbase_url: {catalog.BASE_URL}\n"
            f"deploy:\n  url: s3://bench/{prefix}\n  endpoint: {garage.endpoint}\n  region: garage\n")


def timed(argv, log, env):
    """Seconds, peak MiB and standard output of one run."""
    usage = log + ".time"
    started = time.perf_counter()
    out = subprocess.run([catalog.TIME, "-f", "%M", "-o", usage, *argv], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv[:3])} failed:\n{out.stdout[-2000:]}{out.stderr[-4000:]}")
    with open(usage) as f:
        peak = int(f.read().split()[-1]) / 1024
    return elapsed, peak, out.stdout


def uploads(stdout):
    return sum(1 for line in stdout.splitlines() if line.startswith("uploaded "))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--apps", type=int, default=20)
    p.add_argument("--builds", type=int, default=25)
    p.add_argument("--mb", type=int, default=8)
    p.add_argument("--big-mb", type=int, default=2048, help="MiB of the one large IPA; 0 to skip")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.apps, args.builds, args.mb, args.big_mb = 3, 4, 1, 0
    catalog.require_tools()
    aws = shutil.which("aws") or sys.exit("the aws command line is missing: pip install awscli")
    work = os.path.abspath(tempfile.mkdtemp(prefix="relsite-deploy-", dir=os.environ.get("BENCH_TMP")))
    garage = Garage(work)
    env = garage.env()
    log = os.path.join(work, "stderr.log")
    rows = []
    try:
        print(f"generating {args.apps} x {args.builds} x {args.mb} MiB in {work}", file=sys.stderr)
        site = catalog.make_site(work, args.apps, args.builds, args.mb)
        with open(os.path.join(site.root, "relsite.yaml"), "w") as f:
            f.write(config(garage, "relsite"))
        catalog.run([BINARY, "build", "--quiet", "--root", site.root], log)
        s3 = ["--endpoint-url", garage.endpoint]

        print("measuring: first deploy, and aws s3 sync of the same output", file=sys.stderr)
        first, first_peak, out = timed([BINARY, "deploy", "--from-published", "--root", site.root], log, env)
        rows.append(("relsite deploy, first", first, first_peak, uploads(out)))
        sync, sync_peak, out = timed([aws, *s3, "s3", "sync", "--only-show-errors", site.public, "s3://bench/aws/"], log, env)
        rows.append(("aws s3 sync, first", sync, sync_peak, None))

        print("measuring: no-change deploy", file=sys.stderr)
        same, same_peak, out = timed([BINARY, "deploy", "--from-published", "--root", site.root], log, env)
        rows.append(("relsite deploy, no change", same, same_peak, uploads(out)))

        print("measuring: one build added from a fresh runner, and aws s3 sync from a fresh checkout", file=sys.stderr)
        fresh = os.path.join(work, "runner")
        os.makedirs(os.path.join(fresh, "releases"))
        with open(os.path.join(fresh, "relsite.yaml"), "w") as f:
            f.write(config(garage, "relsite"))
        shutil.copytree(site.extra, os.path.join(fresh, "releases", "extra"))
        add, add_peak, out = timed([BINARY, "deploy", "--from-published", "--root", fresh], log, env)
        rows.append(("relsite deploy, one build added", add, add_peak, uploads(out)))
        checkout = os.path.join(work, "checkout")
        shutil.copytree(site.public, checkout)
        shutil.copytree(site.extra, os.path.join(checkout, "extra-build"))
        now = time.time()
        for parent, _, names in os.walk(checkout):
            for name in names:
                os.utime(os.path.join(parent, name), (now, now))
        resync, resync_peak, out = timed([aws, *s3, "s3", "sync", "--only-show-errors", checkout, "s3://bench/aws/"], log, env)
        rows.append(("aws s3 sync, fresh checkout", resync, resync_peak, None))

        if args.big_mb:
            print(f"measuring: one IPA of {args.big_mb} MiB", file=sys.stderr)
            big = os.path.join(work, "big")
            os.makedirs(os.path.join(big, "releases"))
            with open(os.path.join(big, "relsite.yaml"), "w") as f:
                f.write(config(garage, "big"))
            profile = catalog.make_profile(os.path.join(work, "signing-big"))
            catalog.write_build(os.path.join(big, "releases", "big"), 0, 1, catalog.app_icon(0), profile,
                                args.big_mb, os.urandom(catalog.MIB))
            catalog.run([BINARY, "build", "--quiet", "--root", big], log)
            secs, peak, out = timed([BINARY, "deploy", "--root", big], log, env)
            rows.append((f"relsite deploy, one {args.big_mb} MiB IPA", secs, peak, uploads(out)))
    finally:
        garage.stop()

    builds = args.apps * args.builds
    print(f"\nrelsite deploy to Garage: {builds} builds of {args.mb} MiB, one run each")
    print(f"{'measurement':<38} {'seconds':>9} {'peak MiB':>9} {'uploads':>8}")
    for label, secs, peak, count in rows:
        print(f"{label:<38} {secs:>9.3f} {peak:>9.1f} {'' if count is None else count:>8}")
    by = {label: secs for label, secs, _, _ in rows}
    print(f"\nfirst deploy / aws s3 sync            {by['relsite deploy, first'] / by['aws s3 sync, first']:.2f}   (target <= 1.5)")
    print(f"add one / aws s3 sync, fresh checkout {by['relsite deploy, one build added'] / by['aws s3 sync, fresh checkout']:.2f}   (target <= 0.1)")
    print(f"no-change deploy                      {by['relsite deploy, no change']:.2f} s (target <= 2 s at 1,000 builds, 0 uploads)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
