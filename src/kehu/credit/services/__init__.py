"""Writes of credit management, one module per area: settings, surveys, ratings (and the
template), lines (applications, approvals, securities, groups, re-survey tasks), checks (the
order credit check and holds)."""
