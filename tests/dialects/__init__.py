"""Tests for the dialect layer (dialects/)."""
