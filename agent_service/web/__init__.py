"""The service's web pages: the chat page at ``/`` and the admin at ``/admin``
(server-rendered with jinja2, a little JavaScript, no build step), installed by
agent_service.web.install."""
