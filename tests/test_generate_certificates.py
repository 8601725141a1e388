"""Generated config for certificates (issue 24, item 2): a service per endpoint host:port on the cloud host,
checked by check_vio_certificate --name HOST:PORT, with no dependents; accepted by the real icinga2 and
Nagios."""

from __future__ import annotations

from pathlib import Path

from icinga_helpers import HOSTILE, ICINGA_DIR, small_inventory

from vio_checks import topology as t
from vio_checks.icinga import RenderOptions, render_icinga2, render_nagios
from vio_checks.icinga import objects as o
from vio_checks.icinga.generate import validate_icinga2, validate_nagios
from vio_checks.optional_records import Certificate

NOW = 1_700_000_000.0


def _inventory(hostile: bool = False):
    inv = small_inventory(hostile=hostile)
    inv.certificates = [
        Certificate("keystone.vio.example:5000", "keystone.vio.example", 5000, ("identity",),
                    not_after=NOW + 5 * 86400, verified=True),
        Certificate("[fd00::1]:8774", "fd00::1", 8774, ("compute",), error="cannot connect: refused"),
        Certificate("vc.vio.example:443", "vc.vio.example", 443, ("vcenter",), not_after=NOW, verified=False),
    ]
    if hostile:
        evil = f"evil{HOSTILE}"
        inv.certificates.append(Certificate(f"{evil}:443", evil, 443, (evil,), error=evil))
    return inv


def _render(inv, fmt: str = "icinga2") -> str:
    topo = o.build(inv)
    ro = RenderOptions(shared_vars={"vio_os_cloud": "demo", "vio_os_region_name": "RegionOne"})
    return render_icinga2.render(topo, ro) if fmt == "icinga2" else render_nagios.render(topo, ro)


def test_a_service_per_endpoint_host_port_on_the_cloud_host_with_no_dependents():
    topo = o.build(_inventory())
    certs = [n for n in topo.sorted_nodes() if n.kind == t.CERTIFICATE]
    assert [n.object_id for n in certs] == ["[fd00::1]:8774", "keystone.vio.example:5000", "vc.vio.example:443"]
    for n in certs:
        assert n.host == topo.prefix and n.parents == ()
        assert n.check.command == "vio_certificate" and n.check.args == (("--name", n.object_id),)
        assert topo.children_of(n.key) == [], n.key  # nothing depends on a certificate
    keystone = next(n for n in certs if n.object_id.startswith("keystone"))
    assert keystone.service == "certificate-keystone.vio.example-5000"
    assert keystone.vars["vio_services"] == ["identity"]


def test_no_certificates_no_service():
    inv = _inventory()
    inv.certificates = []
    assert not [n for n in o.build(inv).sorted_nodes() if n.kind == t.CERTIFICATE]


def test_icinga2_accepts_it(tmp_path: Path, icinga2_binary):
    text = _render(_inventory(hostile=True))
    assert 'check_command = "vio_certificate"' in text, text
    path = tmp_path / "vio.conf"
    path.write_text(text, encoding="utf-8")
    v = validate_icinga2([path], ICINGA_DIR)
    assert v.ok, v.errors()


def test_nagios_accepts_it(tmp_path: Path, nagios4_binary):
    path = tmp_path / "vio.cfg"
    path.write_text(_render(_inventory(hostile=True), "nagios"), encoding="utf-8")
    v = validate_nagios([path], ICINGA_DIR)
    assert v.ok, v.errors()


def test_impact_and_rootcause_name_a_certificate():
    from vio_checks.icinga import analysis
    from vio_checks.icinga.resolve import KIND_LABELS

    topo = o.build(_inventory())
    key = next(n.key for n in topo.sorted_nodes() if n.kind == t.CERTIFICATE)
    assert KIND_LABELS[t.CERTIFICATE] == ("certificate", "certificates")
    assert t.CERTIFICATE in analysis.IMPACT_ORDER
    assert topo.descendants(key) == []  # its impact: nothing in the tree
    assert [n.key for n in topo.ancestors(key)] == [topo.prefix]
