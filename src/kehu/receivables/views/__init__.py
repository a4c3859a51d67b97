"""Receivables pages: `aging` (aging, drill-down, figures); `collections` (follow-up)."""
