"""Bundle signatures as Open Policy Agent specifies them: `.signatures.json` holds a JWT whose
payload lists every other file of the bundle with its SHA-256 hash (see canonical.file_hash).

Signing uses `cryptography` directly so that signatures are deterministic (RFC 6979 ECDSA for
ES256; PKCS #1 v1.5 for RS256 is deterministic already): the same sources and key give a
byte-identical bundle. Verification uses PyJWT, pinned to the algorithm of the key given, so a
token cannot choose a weaker algorithm (or none)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..errors import PolicyError, UsageError
from .canonical import file_hash

SIGNATURES = ".signatures.json"
ALGORITHMS = ("ES256", "RS256")
ENV_SIGNING_KEY = "POLICY_SIGNING_KEY"


class BundleError(PolicyError):
    """A bundle that must not be used: tampered, unsigned while a key is required, malformed."""


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


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def load_private_key(path: Path):
    """(key, algorithm) from a PEM private key (EC P-256 -> ES256, RSA -> RS256)."""
    try:
        key = serialization.load_pem_private_key(_read(path, "signing key"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{path} is not an unencrypted PEM private key ({exc}); "
                         f"make one with 'policy keygen DIR'") from None
    return key, _algorithm_of(key, path)


def load_public_key(path: Path):
    """(key, algorithm) from a PEM public key."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UsageError(f"{path} is not a PEM public key ({exc}); use the public.pem that "
                         f"'policy keygen' wrote") from None
    return key, _algorithm_of(key, path)


def _algorithm_of(key, path) -> str:
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name != "secp256r1":
            raise UsageError(f"{path}: EC keys must use the P-256 curve (ES256), not {key.curve.name}")
        return "ES256"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise UsageError(f"{path}: RSA keys must have at least 2048 bits")
        return "RS256"
    raise UsageError(f"{path}: unsupported key type; use an EC P-256 (ES256) or RSA (RS256) key")


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


def verify(files: dict[str, bytes], signatures: bytes, key, algorithm: str) -> None:
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
    signed: dict[str, tuple[str, str]] = {}
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
