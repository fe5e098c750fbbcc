"""Signing bundles as Open Policy Agent specifies (the authoring side; verification is in
verify.py, part of the format the runtime reads).

Signing uses `cryptography` directly so that signatures are deterministic (RFC 6979 ECDSA for
ES256; PKCS #1 v1.5 for RS256 is deterministic already): the same sources and key give a
byte-identical bundle."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..errors import UsageError
from .canonical import file_hash
from .errors import BundleError, KeyFileError
from .verify import ALGORITHMS, SIGNATURES, _algorithm_of, _read, load_public_key, verify

__all__ = ["ALGORITHMS", "ENV_SIGNING_KEY", "SIGNATURES", "BundleError", "generate_keypair", "load_private_key",
           "load_public_key", "signatures_file", "verify"]

ENV_SIGNING_KEY = "POLICY_SIGNING_KEY"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate_keypair(directory: Path, algorithm: str = "ES256") -> tuple[Path, Path]:
    """Write DIR/private.pem (mode 0600) and DIR/public.pem. Never overwrites."""
    directory = Path(directory)
    if algorithm not in ALGORITHMS:
        raise UsageError(f"unknown algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    private_path, public_path = directory / "private.pem", directory / "public.pem"
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"{path} already exists; choose an empty folder (keys are never overwritten)")
    directory.mkdir(parents=True, exist_ok=True)
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    public_path.write_bytes(public)
    return private_path, public_path


def load_private_key(path: Path):
    """(key, algorithm) from a PEM private key (EC P-256 -> ES256, RSA -> RS256)."""
    try:
        key = serialization.load_pem_private_key(_read(path, "signing key"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key ({exc}); "
                         f"make one with 'policy keygen DIR'") from None
    return key, _algorithm_of(key, path)


def signatures_file(files: dict[str, bytes], key, algorithm: str, key_id: str) -> bytes:
    """The `.signatures.json` content for the bundle files ``files`` (name -> bytes)."""
    payload = {"files": [{"name": name, "hash": file_hash(name, data), "algorithm": "SHA-256"}
                         for name, data in sorted(files.items())]}
    header = {"alg": algorithm, "kid": key_id, "typ": "JWT"}
    signing_input = (_b64(json.dumps(header, sort_keys=True, separators=(",", ":")).encode()) + "."
                     + _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()))
    if algorithm == "ES256":
        der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    token = signing_input + "." + _b64(signature)
    return json.dumps({"signatures": [token]}, sort_keys=True, indent=2).encode() + b"\n"


