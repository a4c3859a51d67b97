"""Kehu 客户 — customer value and credit management."""

__version__ = "0.1.0"
