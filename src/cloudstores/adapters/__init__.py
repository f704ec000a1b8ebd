"""Drop-in backends for agent frameworks: one package per framework, each an optional extra."""
