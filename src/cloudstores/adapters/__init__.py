"""Drop-in backends for agent frameworks: one sub-package per framework, mapping only."""
