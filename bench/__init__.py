"""The vio-checks benchmark, run from the repository root: ``python -m bench.run`` (run.py says what it
measures). figures.py runs figures 1-6, bulk.py figure 7 (against the e2e tests' real icinga2, imported from
``tests.harness``), report.py writes BENCHMARKS.md, procs.py runs and measures the children, simenv.py is the
one import of the simulator.
"""
