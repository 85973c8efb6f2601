"""The bottom layer: small pieces every app may use. It imports no app of the project."""
