"""Repository-level pytest configuration: the pytester fixture for our own tests."""

pytest_plugins = ["pytester"]
