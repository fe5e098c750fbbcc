"""The bundle: deterministic OPA tarball, manifest, signing, and refusal of anything tampered."""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tarfile

import pytest

from conftest import REPO, Repo, build_root
from generator.build import build
from generator.bundle.archive import read_archive, write_archive
from generator.bundle.sign import BundleError, generate_keypair
from generator.runtime import Bundle
from generator.bundle.errors import BundleNotFound
from generator.validate import load_corpus


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    generate_keypair(folder / "a")
    generate_keypair(folder / "b")
    generate_keypair(folder / "rsa", "RS256")
    return folder


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys):
    out = tmp_path_factory.mktemp("signed") / "site"
    build(REPO, out, sign_key=keys / "a" / "private.pem")
    return out / "bundle" / "bundle.tar.gz"


def members(path) -> dict[str, bytes]:
    return read_archive(path.read_bytes())


def repack(files: dict[str, bytes], path) -> None:
    path.write_bytes(write_archive(files))


def test_layout_manifest_and_determinism(tmp_path, keys):
    build(REPO, tmp_path / "one")
    build(REPO, tmp_path / "two")
    one, two = tmp_path / "one" / "bundle", tmp_path / "two" / "bundle"
    assert (one / "bundle.tar.gz").read_bytes() == (two / "bundle.tar.gz").read_bytes()
    with tarfile.open(one / "bundle.tar.gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == [".manifest", "usage_policy/policy.rego", "usage_policy_data/data.json"]
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {(0, 0, 0, "", "", 0o644)}
    header = (one / "bundle.tar.gz").read_bytes()[:10]
    assert header[4:8] == b"\0\0\0\0"  # gzip mtime 0
    files = members(one / "bundle.tar.gz")
    assert files["usage_policy_data/data.json"] == (one / "data.json").read_bytes()
    manifest = json.loads(files[".manifest"])
    assert manifest["roots"] == ["usage_policy", "usage_policy_data"] and manifest["rego_version"] == 1
    assert manifest["metadata"]["policy_version"] == load_corpus(REPO).version.isoformat()
    signed_a = tmp_path / "sa"
    build(REPO, signed_a, sign_key=keys / "a" / "private.pem")
    build(REPO, tmp_path / "sb", sign_key=keys / "a" / "private.pem")
    assert (signed_a / "bundle/bundle.tar.gz").read_bytes() == (tmp_path / "sb/bundle/bundle.tar.gz").read_bytes()


def test_manifest_names_the_commit_and_records_a_dirty_tree(tmp_path):
    repo = Repo(tmp_path / "repo")
    root, sha = repo.root, repo.commit("first")
    build(root, tmp_path / "site")
    manifest = json.loads(members(tmp_path / "site/bundle/bundle.tar.gz")[".manifest"])
    assert manifest["revision"] == sha and manifest["metadata"]["dirty"] is False
    (root / "policy" / "models.yaml").write_text((root / "policy" / "models.yaml").read_text() + "\n")
    build(root, tmp_path / "site")
    manifest = json.loads(members(tmp_path / "site/bundle/bundle.tar.gz")[".manifest"])
    assert manifest["revision"] == sha and manifest["metadata"]["dirty"] is True
    repo.git.close()


def test_data_holds_future_rules_and_every_exception(tmp_path):
    root = build_root(tmp_path / "root")
    main = root / "policy" / "main.yaml"
    main.write_text(main.read_text().replace("        text: Designing weapons.\n",
                                             "        text: Designing weapons.\n        effective: 2030-01-01\n"))
    gov = (root / "exceptions" / "gov.yaml").read_text()
    (root / "exceptions" / "later.yaml").write_text(gov.replace("id: gov", "id: later").replace(
        "status: active", "status: draft"))
    build(root, tmp_path / "site")
    data = json.loads((tmp_path / "site/bundle/data.json").read_text())
    assert data["rules"]["weapons.design"]["effective"] == "2030-01-01"
    assert data["exceptions"]["later"]["status"] == "draft"
    assert data["rules"]["weapons.design"]["url"] == "main/#weapons.design"
    assert data["models"] == {"small": {"name": "Small", "asl": 2}, "large": {"name": "Large", "asl": 3}}


def test_keygen_writes_a_private_key_only_its_owner_can_read(keys, cli, tmp_path):
    assert stat.S_IMODE(os.stat(keys / "a" / "private.pem").st_mode) == 0o600
    result = cli(["keygen", str(keys / "a")])
    assert result.exit_code == 2 and "already exists" in result.output
    made = cli(["keygen", str(tmp_path / "k"), "--algorithm", "RS256"])
    assert made.exit_code == 0 and (tmp_path / "k" / "public.pem").read_text().startswith("-----BEGIN PUBLIC KEY")


def test_signed_bundle_verifies_and_the_private_key_never_enters_the_site(signed, keys):
    bundle = Bundle.load(signed, public_key=keys / "a" / "public.pem")
    assert bundle.decide({"use": "high-risk.legal"}).allowed
    private = (keys / "a" / "private.pem").read_bytes()
    body = b"".join(p.read_bytes() for p in signed.parent.parent.rglob("*") if p.is_file())
    assert b"PRIVATE KEY" not in body and private not in body
    token = json.loads(members(signed)[".signatures.json"])["signatures"][0]
    assert token.count(".") == 2


def test_rsa_signatures_verify(tmp_path, keys):
    build(REPO, tmp_path / "site", sign_key=keys / "rsa" / "private.pem")
    Bundle.load(tmp_path / "site" / "bundle", public_key=keys / "rsa" / "public.pem")


def test_flipped_byte_in_data_is_refused(signed, keys, tmp_path):
    files = members(signed)
    data = bytearray(files["usage_policy_data/data.json"])
    index = data.index(b'"waivable":false')
    data[index + len('"waivable":')] = ord("t")  # false -> talse: one byte flipped
    files["usage_policy_data/data.json"] = bytes(data)
    repack(files, tmp_path / "tampered.tar.gz")
    with pytest.raises(BundleError, match="not valid JSON|modified after signing"):
        Bundle.load(tmp_path / "tampered.tar.gz", public_key=keys / "a" / "public.pem")
    files = members(signed)  # the same length, still valid JSON: a rule made waivable
    files["usage_policy_data/data.json"] = files["usage_policy_data/data.json"].replace(
        b'"waivable":false', b'"waivable":true ', 1)
    repack(files, tmp_path / "tampered2.tar.gz")
    with pytest.raises(BundleError, match="modified after signing"):
        Bundle.load(tmp_path / "tampered2.tar.gz", public_key=keys / "a" / "public.pem")


def test_flipped_byte_in_the_compressed_file_is_refused(signed, keys, tmp_path):
    raw = bytearray(signed.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (tmp_path / "flipped.tar.gz").write_bytes(bytes(raw))
    with pytest.raises(BundleError):
        Bundle.load(tmp_path / "flipped.tar.gz", public_key=keys / "a" / "public.pem")


def test_swapped_signature_is_refused(signed, keys, tmp_path):
    other = tmp_path / "other"
    root = build_root(tmp_path / "root")
    build(root, other, sign_key=keys / "a" / "private.pem")
    files = members(signed)
    files[".signatures.json"] = members(other / "bundle" / "bundle.tar.gz")[".signatures.json"]
    repack(files, tmp_path / "swapped.tar.gz")
    with pytest.raises(BundleError, match="modified after signing"):
        Bundle.load(tmp_path / "swapped.tar.gz", public_key=keys / "a" / "public.pem")


def test_signed_with_another_key_is_refused(signed, keys):
    with pytest.raises(BundleError, match="does not verify"):
        Bundle.load(signed, public_key=keys / "b" / "public.pem")
    with pytest.raises(BundleError, match="does not verify"):
        Bundle.load(signed, public_key=keys / "rsa" / "public.pem")


def test_unsigned_while_a_key_is_given_is_refused(tmp_path, keys):
    build(REPO, tmp_path / "site")
    with pytest.raises(BundleError, match="not signed"):
        Bundle.load(tmp_path / "site" / "bundle", public_key=keys / "a" / "public.pem")


def test_added_or_removed_files_are_refused(signed, keys, tmp_path):
    files = members(signed)
    files["usage_policy/extra.rego"] = b"package usage_policy\nallow := true\n"
    repack(files, tmp_path / "added.tar.gz")
    with pytest.raises(BundleError, match="unsigned files"):
        Bundle.load(tmp_path / "added.tar.gz", public_key=keys / "a" / "public.pem")
    files = members(signed)
    del files["usage_policy/policy.rego"]
    repack(files, tmp_path / "removed.tar.gz")
    with pytest.raises(BundleError, match="signed but absent"):
        Bundle.load(tmp_path / "removed.tar.gz", public_key=keys / "a" / "public.pem")


def test_unknown_schema_version_and_bad_data_are_refused(tmp_path):
    build(REPO, tmp_path / "site")
    files = members(tmp_path / "site/bundle/bundle.tar.gz")
    data = json.loads(files["usage_policy_data/data.json"])
    data["schema_version"] = 2
    files["usage_policy_data/data.json"] = json.dumps(data).encode()
    repack(files, tmp_path / "v2.tar.gz")
    with pytest.raises(BundleError, match="schema_version 2"):
        Bundle.load(tmp_path / "v2.tar.gz")
    data["schema_version"] = 1
    data["rules"]["weapons.design"]["effect"] = "maybe"
    files["usage_policy_data/data.json"] = json.dumps(data).encode()
    repack(files, tmp_path / "bad.tar.gz")
    with pytest.raises(BundleError, match="does not match its schema"):
        Bundle.load(tmp_path / "bad.tar.gz")


def _tar(entries) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue())


def test_hostile_archives_are_refused(tmp_path):
    escape = tarfile.TarInfo("../outside.json")
    escape.size = 2
    link = tarfile.TarInfo("usage_policy_data/data.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    for name, blob in [("escape", _tar([(escape, b"{}")])), ("link", _tar([(link, None)])),
                       ("truncated", (REPO / "README.md").read_bytes()[:50]), ("empty", b"")]:
        (tmp_path / f"{name}.tar.gz").write_bytes(blob)
        with pytest.raises(BundleError):
            Bundle.load(tmp_path / f"{name}.tar.gz")
    with pytest.raises(BundleNotFound, match="no such bundle"):
        Bundle.load(tmp_path / "missing.tar.gz")


def test_extracted_bundle_folder_loads(tmp_path, signed, keys):
    folder = tmp_path / "extracted"
    for name, data in members(signed).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    Bundle.load(folder, public_key=keys / "a" / "public.pem")
    (folder / "notes.txt").write_text("not part of the bundle")
    with pytest.raises(BundleError, match="unsigned files"):
        Bundle.load(folder, public_key=keys / "a" / "public.pem")


def test_decide_command(tmp_path, cli, signed, keys):
    requests = tmp_path / "requests.jsonl"
    requests.write_text('{"use": "high-risk.legal", "at": "2025-01-01"}\n{not json}\n\n'
                        '{"use": "weapons.design", "at": "2025-01-01"}\n')
    result = cli(["decide", "--bundle", str(signed), "--key", str(keys / "a" / "public.pem"),
                  "--input", str(requests)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [line.get("allowed") for line in lines] == [True, None, False]
    assert lines[1]["line"] == 2 and "not valid JSON" in lines[1]["error"]
    one = cli(["decide", "--bundle", str(signed)], input='{\n  "use": "high-risk.legal"\n}\n')
    assert one.exit_code == 0 and json.loads(one.output)["obligations"] == ["human-review", "ai-disclosure"]
    refused = cli(["decide", "--bundle", str(signed), "--key", str(keys / "b" / "public.pem")], input="{}")
    assert refused.exit_code == 1 and "does not verify" in refused.output
    missing = cli(["decide", "--bundle", str(tmp_path / "nope.tar.gz")], input="{}")
    assert missing.exit_code == 2


def test_build_signs_from_the_environment_variable(tmp_path, cli, keys, monkeypatch, root):
    monkeypatch.setenv("POLICY_SIGNING_KEY", str(keys / "b" / "private.pem"))
    result = cli(["build", "--root", str(root), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    Bundle.load(tmp_path / "site" / "bundle", public_key=keys / "b" / "public.pem")
    monkeypatch.setenv("POLICY_SIGNING_KEY", str(keys / "b" / "public.pem"))
    bad = cli(["build", "--root", str(root), "--out", str(tmp_path / "site2")])
    assert bad.exit_code == 2 and "not an unencrypted PEM private key" in bad.output
    assert not (tmp_path / "site2").exists()


def test_the_fast_canonical_json_writes_what_the_canonical_one_writes():
    """data.json is written by canonical_without_floats (orjson): the same bytes as canonical
    (json.dumps) on every value without a float, and the bundle's data has none."""
    import random

    from generator.bundle.canonical import canonical, canonical_without_floats
    from generator.bundle.write import data_schema

    rng = random.Random(7)
    alphabet = [chr(c) for c in range(0x80)] + ["\u2028", "\u2029", "\ufffd", "\U0001F600", "é", "中", "\x7f",
                                                  "\u0085", "\ue000", "\uffff", '"', "\\", "</script>"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))

    def value(depth: int = 0):
        pick = rng.random()
        if depth > 3 or pick < 0.3:
            return rng.choice([text(), rng.randint(-2**53, 2**53), True, False, None, 0])
        if pick < 0.65:
            return {text(): value(depth + 1) for _ in range(rng.randint(0, 5))}
        return [value(depth + 1) for _ in range(rng.randint(0, 5))]

    for _ in range(5_000):
        item = value()
        assert canonical_without_floats(item) == canonical(item), item
    schema = json.dumps(json.loads(data_schema()))  # (as loaded: whatever its layout)
    assert '"type": "number"' not in schema and '"number"' not in schema, \
        "data.json may hold floats now: write it with canonical(), not canonical_without_floats()"
