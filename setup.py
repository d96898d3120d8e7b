"""Build hook: the packages that go into the wheel. Metadata and package data: pyproject.toml.

labels/ and models/ stay at the repository root, where a checkout uses them in place. The wheel
carries them as the data-only package `training._shipped` (mapped with package_dir, no copying
in the tree), which training/config.py finds through importlib.resources in an installed wheel.
Every sub-package and data folder of training/ and service/ is found, so a new one needs no edit here.
"""

from setuptools import find_namespace_packages, setup

SHIPPED = {"training._shipped.labels": "labels", "training._shipped.models": "models"}

setup(
    # Namespace discovery also lists data-only folders (service/static, service/templates).
    packages=find_namespace_packages(include=["training", "training.*", "service", "service.*"], exclude=["*.__pycache__"])
    + list(SHIPPED),
    package_dir=SHIPPED,
)
