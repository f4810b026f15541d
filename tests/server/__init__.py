"""Tests of the web server: persistence, auth, audit and the REST API."""
