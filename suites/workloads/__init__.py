"""Models and workloads shared by the suites: built in code with seeded random weights
(nothing is downloaded), each with a NumPy reference to check outputs against."""
