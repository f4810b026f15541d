"""Front Desk's web server: persistence, auth, audit, the REST API and the pages.

``create_app`` (server.app) is the entry point; everything else is reached
through it. The server depends on voice_agent, never the other way round.
"""
