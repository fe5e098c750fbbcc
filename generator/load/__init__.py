"""Load: find source files, read them safely, parse YAML with positions."""

from .files import (KIND_DOCUMENT, KIND_EXCEPTION, KIND_MODELS, MAX_FILE_BYTES, ParsedFile, RawFile,
                    parse, read_tree)
from .yamlpos import MAX_ALIAS_EXPANSION, PosDict, PosList, load_yaml

__all__ = ["KIND_DOCUMENT", "KIND_EXCEPTION", "KIND_MODELS", "MAX_ALIAS_EXPANSION", "MAX_FILE_BYTES",
           "ParsedFile", "PosDict", "PosList", "RawFile", "load_yaml", "parse", "read_tree"]
