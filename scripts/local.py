"""The local stack: the real Pulumi engine and AWS provider against moto.

Run it through scripts/local, which checks the prerequisites first. Every
file it makes is under .local/ in the repository (the virtual environment,
moto's pid and log, the Pulumi state), and Pulumi.local.yaml at the root
(copied from examples/Pulumi.local.yaml on the first run). It never touches
an AWS account: it refuses to run when the stack's endpoints do not all
point at the emulator on this machine, and it runs Pulumi without the
caller's AWS credentials.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, ".local")
VENV = os.path.join(WORK, "venv")
PID_FILE = os.path.join(WORK, "moto.pid")
LOG_FILE = os.path.join(WORK, "moto.log")
STATE = os.path.join(WORK, "state")
STACK = "local"
STACK_FILE = os.path.join(ROOT, "Pulumi.local.yaml")
EXAMPLE = os.path.join(ROOT, "examples", "Pulumi.local.yaml")

# The moto release whose behaviour the local stack file and this script are
# written for: `scripts/local verify` checks each behaviour against the
# running emulator, and CI runs it.
MOTO_VERSION = "5.2.1"

# What moto needs to serve the local stack: AWS's managed IAM policies (the
# RDS enhanced-monitoring role of a prod-sized stack attaches one), and ECS
# services that report their tasks running, so that a stack that waits for
# a steady state (compute.waitForSteadyState) sees one. moto reports the same
# running count for every service: set MOTO_ECS_SERVICE_RUNNING to the
# services' desired count for a stack that waits (the dev preset does not).
MOTO_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_ECS_SERVICE_RUNNING": os.environ.get("MOTO_ECS_SERVICE_RUNNING", "1"),
}

# Hosts that are this machine.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}

# Provider keys that would reach past the emulator to a real account.
ACCOUNT_KEYS = ("aws:profile", "aws:assumeRole", "aws:assumeRoleWithWebIdentity",
                "aws:sharedCredentialsFiles", "aws:sharedConfigFiles", "aws:token")

# The types moto 5.2.1 cannot delete: a replication group stays "deleting"
# for ever, and DeleteCacheSubnetGroup is not implemented (HTTP 500). `down`
# leaves them out of the destroy; they go with moto when it stops.
UNDELETABLE = (
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
)


class Refusal(Exception):
    """A reason not to go on, said in one message."""


def say(message):
    print(f"local: {message}", file=sys.stderr, flush=True)


# --- the stack file and its guard ---------------------------------------

def load_yaml(path):
    try:
        import yaml
    except ImportError as err:
        raise Refusal(f"reading {path} needs PyYAML (a dependency of moto): {err}")
    with open(path) as f:
        return yaml.safe_load(f) or {}


def guard(path):
    """Refuses a stack file that could reach anything but the emulator on
    this machine; returns the emulator's port."""
    config = (load_yaml(path) or {}).get("config") or {}
    rel = os.path.relpath(path, ROOT)
    endpoints = config.get("aws:endpoints")
    if not isinstance(endpoints, list) or not endpoints or not all(isinstance(e, dict) for e in endpoints):
        raise Refusal(f"refusing: {rel} sets no aws:endpoints, so the provider would call AWS itself; "
                      "the local stack sends every API to the emulator on this machine")
    ports = set()
    for entry in endpoints:
        for service, url in entry.items():
            parsed = urlparse(str(url))
            if parsed.scheme not in ("http", "https") or parsed.hostname not in LOCAL_HOSTS or not parsed.port:
                raise Refusal(f"refusing: {rel} aws:endpoints.{service} is {url!r}, not the emulator on this "
                              "machine (http://localhost:<port>)")
            ports.add(parsed.port)
    if len(ports) != 1:
        raise Refusal(f"refusing: {rel} aws:endpoints use ports {sorted(ports)}: one emulator serves them all, on one port")
    for key in ACCOUNT_KEYS:
        if key in config:
            raise Refusal(f"refusing: {rel} sets {key}, which reaches a real AWS account; the local stack uses fake credentials only")
    if config.get("aws:skipCredentialsValidation") is not True:
        raise Refusal(f"refusing: {rel} must set aws:skipCredentialsValidation: true (its credentials are fake)")
    return ports.pop()


def ensure_stack_file():
    if not os.path.exists(STACK_FILE):
        shutil.copyfile(EXAMPLE, STACK_FILE)
        say("copied examples/Pulumi.local.yaml to Pulumi.local.yaml (yours to edit; git ignores it)")


# --- moto ----------------------------------------------------------------

def venv_python():
    return os.path.join(VENV, "bin", "python")


def moto_version(python):
    out = subprocess.run([python, "-c", "import moto; print(moto.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_moto():
    """A virtual environment with moto[server] at the pinned version: pip
    installs it where PyPI is reachable; an installation of that version
    the system Python already has is used as it is (the environment sees the
    system's packages)."""
    if not os.path.exists(venv_python()):
        say(f"creating the virtual environment {os.path.relpath(VENV, ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", VENV], check=True)
    found = moto_version(venv_python())
    if found == MOTO_VERSION:
        return
    say(f"installing moto[server]=={MOTO_VERSION} (found: {found or 'none'})")
    pip = subprocess.run([venv_python(), "-m", "pip", "install", "--quiet", f"moto[server]=={MOTO_VERSION}"],
                         capture_output=True, text=True)
    found = moto_version(venv_python())
    if found != MOTO_VERSION:
        raise Refusal(f"moto {MOTO_VERSION} is needed and pip could not install it "
                      f"({(pip.stderr.strip().splitlines() or ['no output'])[-1]}); "
                      f"install moto[server]=={MOTO_VERSION} for {sys.executable}, or make PyPI reachable")


def answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def port_taken(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def our_moto():
    """The pid of the moto this script started, if it still runs."""
    try:
        with open(PID_FILE) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start_moto(port):
    pid = our_moto()
    if pid and answers(port):
        say(f"moto already runs (pid {pid}) on port {port}")
        return
    if port_taken(port):
        raise Refusal(f"port {port} is in use by another program: stop it, or move every aws:endpoints entry "
                      "of Pulumi.local.yaml to a free port")
    os.makedirs(WORK, exist_ok=True)
    env = dict(os.environ, **MOTO_ENV)
    with open(LOG_FILE, "ab") as log:
        proc = subprocess.Popen([venv_python(), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    with open(PID_FILE, "w") as f:
        f.write(str(proc.pid))
    for _ in range(60):
        if answers(port):
            say(f"moto {MOTO_VERSION} runs on http://localhost:{port} (pid {proc.pid}, log {os.path.relpath(LOG_FILE, ROOT)})")
            return
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise Refusal(f"moto did not start on port {port}: see {os.path.relpath(LOG_FILE, ROOT)}")


def stop_moto():
    pid = our_moto()
    if not pid:
        say("moto is not running")
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(40):
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.25)
    else:
        os.kill(pid, signal.SIGKILL)
    os.remove(PID_FILE)
    say(f"stopped moto (pid {pid}); everything it held is gone")


# --- Pulumi --------------------------------------------------------------

def pulumi_env():
    """Pulumi with this repository's own file backend and an empty
    passphrase, and without the caller's AWS credentials or profile."""
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("AWS_") or k in ("PULUMI_BACKEND_URL", "PULUMI_ACCESS_TOKEN"))}
    os.makedirs(STATE, exist_ok=True)
    env.update({
        "PULUMI_BACKEND_URL": "file://" + STATE,
        "PULUMI_CONFIG_PASSPHRASE": "",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    })
    return env


def pulumi(*args, capture=False, check=True):
    cmd = ["pulumi", *args]
    say("running " + " ".join(cmd))
    result = subprocess.run(cmd, cwd=ROOT, env=pulumi_env(), text=True,
                            capture_output=capture)
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip() if capture else ""
        raise Refusal(f"{' '.join(cmd)} failed (exit {result.returncode}){': ' + detail if detail else ''}")
    return result


def stack_exists():
    if not os.path.isdir(STATE):
        return False
    out = pulumi("stack", "ls", "--json", capture=True, check=False)
    if out.returncode != 0:
        return False
    try:
        return any(s.get("name", "").split("/")[-1] == STACK for s in json.loads(out.stdout or "[]"))
    except json.JSONDecodeError:
        return False


def without_undeletable(deployment):
    """The stack's exported state without the resources moto cannot delete,
    and without every reference to them, so that the rest destroys."""
    resources = deployment["deployment"].get("resources") or []
    dropped = {r["urn"] for r in resources if r.get("type") in UNDELETABLE}
    kept = []
    for r in resources:
        if r["urn"] in dropped:
            continue
        r = dict(r)
        if r.get("dependencies"):
            r["dependencies"] = [d for d in r["dependencies"] if d not in dropped]
        if r.get("propertyDependencies"):
            r["propertyDependencies"] = {k: [d for d in v if d not in dropped]
                                         for k, v in r["propertyDependencies"].items()}
        if r.get("deletedWith") in dropped:
            del r["deletedWith"]
        kept.append(r)
    out = dict(deployment)
    out["deployment"] = dict(deployment["deployment"], resources=kept)
    return out, sorted(dropped)


# --- commands ------------------------------------------------------------

def up(args):
    ensure_stack_file()
    port = guard(STACK_FILE)
    ensure_moto()
    start_moto(port)
    if args.emulator_only:
        say(f"the emulator alone: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url "
            f"http://localhost:{port} ... ; scripts/local down --emulator-only stops it")
        return
    pulumi("stack", "select", "--create", STACK)
    # --refresh: a moto that was restarted holds nothing, and the engine
    # then creates again what the state still lists.
    pulumi("up", "--yes", "--skip-preview", "--refresh", "--stack", STACK)
    pulumi("stack", "output", "--stack", STACK)
    say(f"the local stack is up, on moto at http://localhost:{port}. Where to look:")
    say(f"  resources: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url http://localhost:{port} "
        "--region ap-northeast-1 ecs list-services --cluster <cluster>   (or any other AWS CLI call)")
    say(f"  moto's own view: http://localhost:{port}/moto-api/   its log: {os.path.relpath(LOG_FILE, ROOT)}")
    say("  the stack: PULUMI_BACKEND_URL=file://.local/state PULUMI_CONFIG_PASSPHRASE= pulumi stack -s local")
    say("  scripts/local down destroys it and stops moto")


def down(args):
    ensure_stack_file()
    port = guard(STACK_FILE)
    if not args.emulator_only and stack_exists_checked():
        if our_moto() and answers(port):
            export = pulumi("stack", "export", "--stack", STACK, capture=True)
            trimmed, dropped = without_undeletable(json.loads(export.stdout))
            if dropped:
                say(f"moto {MOTO_VERSION} cannot delete {len(dropped)} of the stack's resources (ElastiCache replication "
                    "and subnet groups): they leave the state here and go with moto when it stops")
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                    json.dump(trimmed, f)
                try:
                    pulumi("stack", "import", "--stack", STACK, "--file", f.name)
                finally:
                    os.remove(f.name)
            pulumi("destroy", "--yes", "--skip-preview", "--stack", STACK)
        else:
            say("moto is not running, and what it held went with it: forgetting the stack's state")
            pulumi("stack", "rm", "--yes", "--force", "--preserve-config", STACK)
    stop_moto()


def stack_exists_checked():
    if not os.path.isdir(STATE):
        return False
    if shutil.which("pulumi") is None:
        raise Refusal("the local stack has state in .local/state, and destroying it needs the Pulumi CLI (pulumi): "
                      "https://www.pulumi.com/docs/install/ ; or scripts/local down --emulator-only stops moto alone")
    return stack_exists()


def status(args):
    print(f"stack file: {'Pulumi.local.yaml' if os.path.exists(STACK_FILE) else 'none yet (up copies examples/Pulumi.local.yaml)'}")
    port = None
    if os.path.exists(STACK_FILE):
        try:
            port = guard(STACK_FILE)
            print(f"endpoints:  every one on this machine, port {port}")
        except Refusal as err:
            print(f"endpoints:  {err}")
    pid = our_moto()
    if pid and port and answers(port):
        print(f"moto:       running, pid {pid}, http://localhost:{port}, version {moto_version(venv_python())}")
    elif pid:
        print(f"moto:       pid {pid} runs but does not answer on port {port}")
    else:
        print("moto:       not running")
    if not os.path.isdir(STATE) or shutil.which("pulumi") is None:
        print("stack:      none" if not os.path.isdir(STATE) else "stack:      state in .local/state (install the Pulumi CLI to read it)")
        return
    if not stack_exists():
        print("stack:      none")
        return
    export = pulumi("stack", "export", "--stack", STACK, capture=True, check=False)
    count = len(json.loads(export.stdout)["deployment"].get("resources") or []) if export.returncode == 0 else "?"
    print(f"stack:      {STACK}, {count} resources in its state")


def verify(args):
    ensure_stack_file()
    port = guard(STACK_FILE)
    if not answers(port):
        raise Refusal(f"no emulator answers on port {port}: scripts/local up --emulator-only starts one")
    python = venv_python() if os.path.exists(venv_python()) else sys.executable
    check = os.path.join(ROOT, "scripts", "local_moto_check.py")
    env = dict(os.environ, MOTO_PORT=str(port), MOTO_VERSION_PINNED=MOTO_VERSION,
               MOTO_ECS_SERVICE_RUNNING=MOTO_ENV["MOTO_ECS_SERVICE_RUNNING"])
    sys.exit(subprocess.run([python, check], env=env).returncode)


def main():
    parser = argparse.ArgumentParser(prog="scripts/local")
    parser.add_argument("command", choices=["up", "down", "status", "verify"])
    parser.add_argument("--emulator-only", action="store_true",
                        help="up/down: start or stop moto alone, without Pulumi")
    args = parser.parse_args()
    try:
        {"up": up, "down": down, "status": status, "verify": verify}[args.command](args)
    except Refusal as err:
        say(str(err))
        sys.exit(1)


if __name__ == "__main__":
    main()
