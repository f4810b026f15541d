"""Locate, assemble, verify and load model files (ASR, VAD, text resources).

This is the lowest layer: it imports nothing from the other Front Desk
packages, and every other package may import it.
"""
