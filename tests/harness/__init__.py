"""What tests and benchmarks share to set up what they run against (no tests here)."""
