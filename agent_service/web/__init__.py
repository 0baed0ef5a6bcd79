"""The service's web pages: the chat page at ``/`` and the admin at ``/admin``
(server-rendered with jinja2, a little JavaScript, no build step)."""

from agent_service.web.pages import install_web

__all__ = ["install_web"]
