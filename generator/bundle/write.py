"""Writing the bundle: data.json, the Rego policy, the OPA manifest, the signature."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..config import Settings
from ..gitinfo import SourceRevision
from ..model import Corpus
from ..resources import read_resource
from . import SCHEMA_VERSION
from .layout import DATA_FILE, POLICY_FILE, ROOTS, mount
from .archive import ARCHIVE_NAME, write_archive
from .canonical import canonical, canonical_without_floats
from .data import bundle_data


@dataclass(frozen=True, slots=True)
class Signing:
    """A private key to sign bundles with. Only its public fingerprint enters fingerprints."""

    key: Any  # a cryptography private key (EC P-256 or RSA)
    algorithm: str
    key_id: str = "policy"

    @property
    def fingerprint(self) -> str:
        from cryptography.hazmat.primitives import serialization

        public = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(public).hexdigest()


def policy_rego() -> bytes:
    return read_resource(__package__, "policy.rego")


def data_schema() -> bytes:
    return read_resource(__package__, "data.schema.json")


def manifest(revision: SourceRevision, version: str | None) -> bytes:
    return canonical({
        "revision": revision.commit or "",
        "roots": list(ROOTS),
        "rego_version": 1,
        "metadata": {"policy_version": version, "schema_version": SCHEMA_VERSION,
                     "dirty": revision.dirty, "generator": f"policy {__version__}",
                     "commit_time": revision.committed_at.isoformat() if revision.committed_at else None,
                     "sequence": revision.sequence},
    })


def bundle_files(data_json: bytes, revision: SourceRevision, version: str | None,
                 signing: Signing | None) -> dict[str, bytes]:
    """The files inside bundle.tar.gz, signed when ``signing`` is given."""
    files = {".manifest": manifest(revision, version), DATA_FILE: data_json, POLICY_FILE: policy_rego()}
    mount(files, "the bundle being built")  # the layout OPA activates; a mistake here is ours
    if signing is not None:
        from .sign import SIGNATURES, signatures_file  # (cryptography: imported only to sign)

        files[SIGNATURES] = signatures_file(files, signing.key, signing.algorithm, signing.key_id)
    return files


def archive(data_json: bytes, revision: SourceRevision, version: str | None, signing: Signing | None) -> bytes:
    return write_archive(bundle_files(data_json, revision, version, signing))


def data_json(corpus: Corpus, settings: Settings, revision: SourceRevision) -> bytes:
    return canonical_without_floats(bundle_data(corpus, settings, revision))


__all__ = ["ARCHIVE_NAME", "DATA_FILE", "POLICY_FILE", "ROOTS", "Signing", "archive", "bundle_files", "data_json", "data_schema",
           "manifest", "policy_rego"]
