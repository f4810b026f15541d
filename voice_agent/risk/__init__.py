"""Fraud cues and transaction risk, driven by data files the risk team edits."""
