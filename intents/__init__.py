"""Intent catalog, classifier, slot extraction and evaluation."""
