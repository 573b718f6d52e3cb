"""The application layer: the flows the two entry points (the pytest plugin and the
``pytest-ssot`` command) share, written once: checking a project (``project``), discovery
(``discover``), deletion readiness (``deletion``) and the release gate's decision
(``gate``). Never imports pytest; results are typed objects (ARCHITECTURE.md)."""
