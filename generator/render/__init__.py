"""Render: view models, Markdown, Jinja2 templates and the atomic site writer."""
