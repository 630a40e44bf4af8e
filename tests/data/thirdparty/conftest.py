"""Third-party suites kept as data: tests build repositories of them and run them there,
so this project's own test run never collects them."""

collect_ignore_glob = ["*"]
