"""Bisection of a commit range on main: the first bad commit, each step a same-job A/B
of a commit against the range's good end (`perfci bisect`)."""
