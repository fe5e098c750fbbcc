"""The rule bundle (DESIGN §4). Kept import-light: services import only what reading needs.

write.py    data.json, manifest, archive and signature for `policy build`
data.py     the model -> data.json
archive.py  the deterministic OPA tarball, and defensive reading
sign.py     keys, signing and verification (OPA's .signatures.json)
canonical.py canonical JSON and OPA's file hashes
"""

SCHEMA_VERSION = 1  # of data.json; bumped on any incompatible change
ROOT = "usage_policy"  # the bundle's only root: data.usage_policy
