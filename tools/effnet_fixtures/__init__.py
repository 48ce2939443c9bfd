"""Helpers behind tools/make_fixtures.py, tools/make_bench_models.py: environment, photos, calibration, export.

Import `env` first (it sets KERAS_BACKEND=torch and makes torchvision importable on the CPU torch build).
"""

from . import env  # noqa: F401  (side effect: KERAS_BACKEND default)
