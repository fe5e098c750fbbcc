"""Policy-as-code for usage policies: sources in YAML, published as pages and rule bundles."""

__version__ = "0.2.0"
