"""Verifying bundle signatures as Open Policy Agent specifies them: `.signatures.json` holds a
JWT whose payload lists every other file of the bundle with its SHA-256 hash (see
canonical.file_hash). PyJWT checks the token, pinned to the algorithm of the key given, so a
token cannot choose a weaker algorithm (or none). Part of the bundle format the runtime reads;
signing is in sign.py (the authoring side)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .canonical import file_hash
from .errors import BundleError, KeyFileError

SIGNATURES = ".signatures.json"
ALGORITHMS = ("ES256", "RS256")

PublicKey = tuple[Any, str]  # (a cryptography public key, "ES256" | "RS256")


def _read(path: Path | str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def load_public_key(path: Path | str) -> PublicKey:
    """(key, algorithm) from a PEM public key."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{path} is not a PEM public key ({exc}); use the public.pem that "
                         f"'policy keygen' wrote") from None
    return key, _algorithm_of(key, path)


def _algorithm_of(key: object, path: Path | str) -> str:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name != "secp256r1":
            raise KeyFileError(f"{path}: EC keys must use the P-256 curve (ES256), not {key.curve.name}")
        return "ES256"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise KeyFileError(f"{path}: RSA keys must have at least 2048 bits")
        return "RS256"
    raise KeyFileError(f"{path}: unsupported key type; use an EC P-256 (ES256) or RSA (RS256) key")


def verify(files: dict[str, bytes], signatures: bytes, key: Any, algorithm: str) -> None:
    """Check `.signatures.json` against the bundle files (without it). Raises BundleError."""
    import jwt

    try:
        tokens = json.loads(signatures.decode("utf-8"))["signatures"]
        if not isinstance(tokens, list) or len(tokens) != 1 or not isinstance(tokens[0], str):
            raise ValueError("expected exactly one signature")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{SIGNATURES} is malformed ({exc})") from None
    try:
        claims = jwt.decode(tokens[0], key=key, algorithms=[algorithm],
                            options={"verify_aud": False, "verify_iss": False})
    except jwt.InvalidTokenError as exc:
        raise BundleError(f"the bundle's signature does not verify with the given public key ({exc})") from None
    listed = claims.get("files")
    if not isinstance(listed, list):
        raise BundleError("the signature lists no files")
    signed: dict[str, tuple[object, object]] = {}
    for entry in listed:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise BundleError("the signature's file list is malformed")
        signed[entry["name"].lstrip("/")] = (entry.get("hash"), entry.get("algorithm", "SHA-256"))
    if set(signed) != set(files):
        missing = sorted(set(files) - set(signed))
        extra = sorted(set(signed) - set(files))
        raise BundleError(f"the signed file list does not match the bundle (unsigned files: {missing}, "
                          f"signed but absent: {extra})")
    for name, data in files.items():
        digest, algorithm_name = signed[name]
        if algorithm_name != "SHA-256":
            raise BundleError(f"{name}: hash algorithm {algorithm_name!r} is not accepted; only SHA-256")
        if hashlib.sha256(data).hexdigest() == digest:
            continue  # the bytes are the canonical form itself (as this tool writes them): verified
        try:
            actual = file_hash(name, data)  # OPA's hash: of the JSON re-encoded canonically
        except (ValueError, UnicodeDecodeError):
            raise BundleError(f"{name} is not valid JSON") from None
        if actual != digest:
            raise BundleError(f"{name} was modified after signing (its SHA-256 hash does not match the signature)")
