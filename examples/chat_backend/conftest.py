"""The example project's test configuration (nothing pytest-ssot needs here)."""
