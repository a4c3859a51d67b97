"""A scorecard learned from data (domain §5.2): `kehu credit calibrate`.

- scorecard.py: the numeric part — binning, weight of evidence, IV, logistic fit, points,
  AUC/KS/Gini; `calibrate(frame, is_bad, ...) -> Calibration` (a dataclass; `.as_dict()` is the
  stable JSON, `.attributes` the bins with their bounds or categories, WoE and points, and
  `.score(frame)` the points of new rows).
- files.py: a .csv (UTF-8 or GB18030) or .xlsx of past customers → attributes and outcome.
- history.py: the company's own ledger → one row per customer, attributes measured over a year
  and the outcome (written off or over 90 days past due) the year after.

A proposal of points for the rating template's indicators is made from a `Calibration`
elsewhere; nothing here writes to the database.
"""
