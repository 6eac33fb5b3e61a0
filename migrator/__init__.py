"""Codemod for moving an agent backend off its process-wide singleton registry."""

__version__ = "0.1.0"
