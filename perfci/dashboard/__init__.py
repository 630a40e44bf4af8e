"""The static HTML dashboard: reads the store, renders dashboards/templates into a folder."""

from perfci.dashboard.site import BuildReport, build_site

__all__ = ["BuildReport", "build_site"]
