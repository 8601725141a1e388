"""govmomi's vCenter simulator for the tests: build our small Go program once, run it, populate it.

`build()` compiles vio-sim/vcsim from Debian's golang-go and golang-github-vmware-govmomi-dev, offline
(GO111MODULE=off, GOPATH with /usr/share/gocode), cached under /var/tmp by the hash of its source and the Go
version. `VCenterSim` runs one simulator (killed on stop, and by itself when our stdin closes).
`bind_scenario` renames a vio-sim scenario's hypervisors as Nova's VMware driver would for that vCenter;
`populate` creates one VM per simulated Nova server, with `config.instanceUuid` = the server id, on a host of
the cluster matching its hypervisor; `back_volumes` creates the shadow VM Cinder's VMDK driver keeps for a
volume (named `volume-<id>`, instance UUID and extraConfig `cinder.volume.id` = the volume id, powered off)
with its files on a datastore.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "vio-sim" / "vcsim"
GOCODE = Path("/usr/share/gocode")
CACHE = Path(os.environ.get("VIO_VCSIM_CACHE", "/var/tmp/vio-vcsim"))


class VcsimUnavailable(RuntimeError):
    """The simulator cannot be built or started here (missing Debian package, build error)."""


def missing_pieces() -> list[str]:
    """What this machine lacks to build the simulator (Debian package names)."""
    out = []
    if shutil.which("go") is None:
        out.append("golang-go")
    if not (GOCODE / "src/github.com/vmware/govmomi/simulator").is_dir():
        out.append("golang-github-vmware-govmomi-dev")
    return out


def build() -> Path:
    """The simulator binary, built now unless one from the same source and Go version is cached."""
    lacking = missing_pieces()
    if lacking:
        raise VcsimUnavailable(f"install {' and '.join(lacking)} (CI installs them through .ci/run)")
    go = shutil.which("go")
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=False).stdout
    h = hashlib.sha256(version.encode())
    for f in sorted(SOURCE.glob("*.go")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    CACHE.mkdir(parents=True, exist_ok=True)
    binary = CACHE / f"vio-vcsim-{h.hexdigest()[:16]}"
    with open(CACHE / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be building the same binary
        if binary.exists():
            return binary
        gopath = CACHE / "gopath"
        gopath.mkdir(exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOFLAGS="", GOPATH=f"{gopath}:{GOCODE}",
                   GOCACHE=str(CACHE / "gocache"), GOPROXY="off", CGO_ENABLED="0")
        tmp = binary.with_suffix(".tmp")
        r = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=SOURCE, env=env, capture_output=True,
                           text=True, timeout=600, check=False)
        if r.returncode != 0:
            raise VcsimUnavailable(f"go build failed: {(r.stderr or r.stdout).strip()[-2000:]}")
        tmp.rename(binary)
    return binary


class VCenterSim:
    """One running simulator: its URL, vCenter instance UUID, SOAP call statistics and staging hooks."""

    def __init__(self, binary: Path, clusters: int = 2, hosts: int = 3, datastores: int = 1, vms: int = 0,
                 instance_uuid: str | None = None) -> None:
        args = [str(binary), "-clusters", str(clusters), "-hosts", str(hosts), "-datastores", str(datastores),
                "-vms", str(vms)]
        if instance_uuid:
            args += ["-instance-uuid", instance_uuid]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._si: Any = None
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], 30)
            line = self.proc.stdout.readline() if ready else ""
            if not line:
                raise VcsimUnavailable(f"the simulator did not start: {self.proc.stderr.read(2000)}"
                                       if self.proc.poll() is not None else "the simulator did not start")
            info = json.loads(line)
        except BaseException:
            self.stop()
            raise
        self.url: str = info["url"]
        self.instance_uuid: str = info["instance_uuid"]
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port
        self.base = f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """End the simulator (and our pyVmomi session)."""
        if self._si is not None:
            from pyVim.connect import Disconnect
            try:
                Disconnect(self._si)
            except Exception:
                pass
            self._si = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()

    # --- what the product sees ---------------------------------------------------------------------

    def credentials_yaml(self) -> str:
        """A credentials file's text for this simulator (it accepts any user and password)."""
        return (f"host: {self.host}\nport: {self.port}\nprotocol: http\nuser: monitoring\n"
                f"password: vcsim-secret-password\n")

    def stats(self) -> dict:
        """{"requests": N, "methods": {name: n}}: every SOAP call the simulator served so far."""
        with urllib.request.urlopen(self.base + "/vio/stats", timeout=10) as r:
            return json.load(r)

    def _stage(self, path: str, **form: Any) -> None:
        data = urllib.parse.urlencode({k: str(v).lower() if isinstance(v, bool) else v
                                       for k, v in form.items()}).encode()
        urllib.request.urlopen(urllib.request.Request(self.base + path, data=data), timeout=10).close()

    def stage_host(self, ref: str, **state: Any) -> None:
        """Set a host's connection / power / status / maintenance (true/false) directly (what this
        simulator has no API for)."""
        self._stage("/vio/host", ref=ref, **state)

    def stage_alarm(self, type: str, ref: str, status: str = "red") -> None:
        """Trigger an alarm on an entity."""
        self._stage("/vio/alarm", type=type, ref=ref, status=status)

    def stage_datastore(self, ref: str, **state: Any) -> None:
        """Set a datastore's accessibility or free space."""
        self._stage("/vio/datastore", ref=ref, **state)

    # --- the harness's own vSphere API client ------------------------------------------------------

    @property
    def si(self) -> Any:
        """A pyVmomi ServiceInstance for the harness (not counted against the product)."""
        if self._si is None:
            from pyVim.connect import SmartConnect
            self._si = SmartConnect(protocol="http", host=self.host, port=self.port, user="harness",
                                    pwd="harness")
        return self._si

    def inventory(self) -> dict:
        """{"clusters": {moref: [host moref, ...]}, "datastores": [name, ...]} from the simulator."""
        from pyVmomi import vim
        content = self.si.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
        clusters = {c._moId: [h._moId for h in c.host] for c in view.view}
        view.DestroyView()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.Datastore], True)
        datastores = [d.name for d in view.view]
        view.DestroyView()
        return {"clusters": clusters, "datastores": datastores}

    def create_vm(self, name: str, instance_uuid: str | None, host: str, power_on: bool = True,
                  datastore: str | None = None, extra_config: dict[str, str] | None = None) -> str:
        """A VM on an ESXi host with the given instance UUID (None: the simulator picks one), its files on
        the named datastore (default: the datacenter's first); its moref."""
        from pyVim.task import WaitForTask
        from pyVmomi import vim
        content = self.si.RetrieveContent()
        host_obj = vim.HostSystem(host, self.si._stub)
        datacenter = content.rootFolder.childEntity[0]
        ds = datastore or datacenter.datastore[0].name
        spec = vim.vm.ConfigSpec(name=name, instanceUuid=instance_uuid, guestId="otherGuest64", numCPUs=1,
                                 memoryMB=64, files=vim.vm.FileInfo(vmPathName=f"[{ds}]"),
                                 extraConfig=[vim.option.OptionValue(key=k, value=v)
                                              for k, v in (extra_config or {}).items()])
        task = datacenter.vmFolder.CreateVM_Task(config=spec, pool=host_obj.parent.resourcePool, host=host_obj)
        WaitForTask(task)
        vm = task.info.result
        if power_on:
            WaitForTask(vm.PowerOnVM_Task())
        return vm._moId


def bind_scenario(scenario: Any, vc: VCenterSim, clusters: list[str]) -> dict:
    """A vio-sim scenario whose hypervisors are named `<cluster moref>.<instance uuid>` of this vCenter.

    The n-th hypervisor gets the n-th cluster; every mention of its old name (servers, migrations) follows.
    """
    from vio_sim.store import load_scenario

    data = load_scenario(scenario)
    hypervisors = data.get("hypervisors") or []
    if len(hypervisors) > len(clusters):
        raise ValueError(f"{len(hypervisors)} hypervisors, {len(clusters)} clusters")
    text = json.dumps(data)
    for hv, moref in zip(hypervisors, clusters, strict=False):
        old = hv["hypervisor_hostname"]
        text = text.replace(json.dumps(old), json.dumps(f"{moref}.{vc.instance_uuid}"))
    out = json.loads(text)
    out.setdefault("settings", {})["vcenter_uuid"] = vc.instance_uuid
    return out


def populate(vc: VCenterSim, servers: list[dict], skip_status: tuple[str, ...] = ("SHELVED_OFFLOADED",)) -> dict:
    """One VM per Nova server (dicts as vio-sim dumps them) on its hypervisor's cluster; {server id: VM moref}.

    Hosts of a cluster take VMs in turn; a server on a hypervisor of no cluster here gets no VM (as a server
    of another vCenter), nor does a shelved-offloaded one (Nova deleted its VM).
    """
    hosts_of = vc.inventory()["clusters"]
    turn: dict[str, int] = {}
    out = {}
    start = time.monotonic()
    for s in servers:
        node = s.get("OS-EXT-SRV-ATTR:hypervisor_hostname") or ""
        moref, _, uuid = node.partition(".")
        if uuid != vc.instance_uuid or moref not in hosts_of or s.get("status") in skip_status:
            continue
        hosts = hosts_of[moref]
        host = hosts[turn.get(moref, 0) % len(hosts)]
        turn[moref] = turn.get(moref, 0) + 1
        out[s["id"]] = vc.create_vm(s.get("name") or s["id"], s["id"], host,
                                    power_on=s.get("status") not in ("SHUTOFF", "SUSPENDED"))
        if time.monotonic() - start > 120:
            raise RuntimeError("populating the simulator takes too long")
    return out


def back_volumes(vc: VCenterSim, volumes: list[dict], datastores: list[str], by_name_only: tuple[str, ...] = ()
                 ) -> dict[str, str]:
    """A shadow VM per Cinder volume (dicts as vio-sim dumps them), as the VMDK driver creates it, the n-th
    volume's files on the n-th datastore (round robin); {volume id: datastore name}.

    The volumes in `by_name_only` get what an older driver set: the name, no instance UUID, no extraConfig.
    """
    hosts = [h for hs in vc.inventory()["clusters"].values() for h in hs]
    out = {}
    for n, v in enumerate(volumes):
        ds = datastores[n % len(datastores)]
        old = v["id"] in by_name_only
        vc.create_vm(f"volume-{v['id']}", None if old else v["id"], hosts[n % len(hosts)], power_on=False,
                     datastore=ds, extra_config=None if old else {"cinder.volume.id": v["id"]})
        out[v["id"]] = ds
    return out
