"""Pure statistics over arrays of numbers: no I/O, no database, typed results."""

from perfci.stats.summary import Summary, summarize

__all__ = ["Summary", "summarize"]
