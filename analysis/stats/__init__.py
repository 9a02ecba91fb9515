"""The statistics of the SAP as plain functions on pandas DataFrames (no Django imports).

Every estimate is a plain dict with at least estimate, ci_low, ci_high, p (where a test
applies) and n. An analysis that cannot be computed on the data at hand (an empty arm, one
patient, a constant or collinear predictor) returns the same keys set to None and a ``note``
saying why, instead of raising.
"""
