"""The rule bundle (DESIGN §4). Kept import-light: services import only what reading needs.

write.py    data.json, manifest, archive and signature for `policy build`
data.py     the model -> data.json
archive.py  the deterministic OPA tarball, and defensive reading
sign.py     keys, signing and verification (OPA's .signatures.json)
canonical.py canonical JSON and OPA's file hashes
layout.py   where files live in the bundle, and OPA's activation rules (roots, data mounts)
"""

SCHEMA_VERSION = 1  # of data.json; bumped on any incompatible change
from .layout import DATA_FILE, DATA_ROOT, POLICY_FILE, POLICY_ROOT, ROOTS  # noqa: E402,F401  (the layout)
