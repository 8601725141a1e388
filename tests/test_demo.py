"""`make demo` (python -m vio_sim.demo): it runs to the end and tells the root-cause story, with commands a
user can paste (quoted names) and perfdata shortened for the screen only."""

from __future__ import annotations

import subprocess
import sys

from vio_sim.demo import PERF_WIDTH, shown


def test_demo_ends_with_the_root_cause_story():
    p = subprocess.run([sys.executable, "-m", "vio_sim.demo"], capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr
    out = p.stdout
    assert "Traceback" not in out + p.stderr
    story = out[out.index("== 6. Root cause"):]
    assert "$ vio-icinga impact --os-cloud vio-sim domain-c10." in story
    assert "hypervisor domain-c10 (vio-compute-03): 2 VMs" in story
    assert "$ vio-icinga rootcause --os-cloud vio-sim " in story
    assert "is unreachable because hypervisor domain-c10 (vio-compute-03) is DOWN" in story and "<- cause" in story
    assert story.rstrip().endswith("the temporary files are removed.")
    assert "--id 'domain-c9(Cluster-B)'" in out  # pasteable into a shell
    for line in out.splitlines():
        if " | " in line and "=" in line.split(" | ", 1)[1]:
            assert len(line.split(" | ", 1)[1]) <= PERF_WIDTH + 4, line


def test_only_long_perfdata_is_shortened():
    short = "VIO VM OK - fine | a=1;;;0 b=2;;;0"
    assert shown(short) == short
    long = "VIO VM OK - fine | " + " ".join(f"metric_{i}=1;;;0;15" for i in range(30))
    cut = shown(long)
    assert cut.startswith("VIO VM OK - fine | metric_0=1;;;0;15 ") and cut.endswith(" ...")
    assert len(cut) < len(long) and "metric_29" not in cut
