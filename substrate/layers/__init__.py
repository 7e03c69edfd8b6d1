"""The platform, built in layers. Each layer module exposes ``build(cfg, ...) -> <Layer>`` and
takes the typed config plus the handles of the layers it builds on; substrate/platform.py
composes them in order."""
