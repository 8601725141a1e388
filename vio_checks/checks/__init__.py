"""The check executables' wiring (nagiosplugin), one module per check."""
