"""Dialect detection and Shanghainese→Mandarin normalisation."""
