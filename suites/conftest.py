"""The bundled suites. This folder is on sys.path while they run, so the shared model
definitions in `workloads/` import as `workloads`."""
