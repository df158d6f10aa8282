"""Shared code of the Media Platform functions: settings, AWS clients, errors, auth and use cases."""
