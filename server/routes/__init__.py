"""HTTP routes, one module per audience: health, auth, calls (service), cases
(tellers), catalog (product staff). Each exposes ``router``."""
