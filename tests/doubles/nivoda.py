"""Local HTTP test double; see the module docstring once written."""
