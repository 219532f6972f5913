"""initlint: a static linter for weight-initializer choices in Keras and PyTorch code."""

__version__ = "0.1.0"
