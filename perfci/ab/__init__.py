"""Same-job A/B measurement: a pull request's base and head commits, side by side."""
