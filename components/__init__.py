"""Substrate's importable Pulumi components.

Import the component you need from its module, e.g. ``from components.network import Network``.
This package file imports nothing heavy, so ``components.validators`` and
``components.versions`` stay cheap to import (the policy pack uses them).
"""
