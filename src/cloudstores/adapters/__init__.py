"""Drop-in backends for agent frameworks: one subpackage or module per framework (extras)."""
