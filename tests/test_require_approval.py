"""require_approval: looser changes since --against need an "Approved-by: Name <email>" trailer
on a commit; uncommitted ones are named as such; malformed trailers are refused by commit."""

from __future__ import annotations

PURPOSE = ("purposes: [combating human trafficking]", "purposes: [combating human trafficking, counter-terrorism]")


def _require(repo, mode: str = "looser") -> str:
    (repo.root / "pyproject.toml").write_text(f'[tool.policy]\nrequire_approval = "{mode}"\n')
    return repo.commit("Approvals required")


def test_a_looser_change_needs_an_approved_commit(repo, cli):
    base = _require(repo)
    repo.edit("exceptions/gov.yaml", *PURPOSE)
    pending = cli(["check", "--against", base], cwd=repo.root)
    assert pending.exit_code == 1
    assert "exceptions/gov.yaml:1:5: looser change to exception 'gov' (changed) is not committed yet" in pending.output
    repo.commit("More purposes")  # committed without approval
    unapproved = cli(["check", "--against", base], cwd=repo.root)
    assert unapproved.exit_code == 1
    assert "has no approval: no commit since " + base in unapproved.output
    assert "git commit --amend --trailer" in unapproved.output
    repo.git.git.commit("--amend", "-m", "More purposes\n\nApproved-by: Ann Counsel <ann@example.com>")
    assert cli(["check", "--against", base], cwd=repo.root).exit_code == 0
    # stricter and editorial changes need nothing under "looser"
    repo.edit("exceptions/gov.yaml", "attestations: [legal-authority]", "attestations: [legal-authority, x]")
    assert cli(["check", "--against", "HEAD"], cwd=repo.root).exit_code == 0


def test_any_and_malformed_trailers(repo, cli):
    base = _require(repo, "any")
    repo.edit("exceptions/gov.yaml", "attestations: [legal-authority]", "attestations: [legal-authority, x]")
    repo.commit("Stricter\n\nApproved-by: legal")
    result = cli(["check", "--against", base], cwd=repo.root)
    assert result.exit_code == 1
    assert "commit " in result.output and "malformed trailer 'Approved-by: legal'; write 'Approved-by: Name <email>'" \
        in result.output
    assert "stricter change to exception 'gov' (changed) has no approval" in result.output
    (repo.root / "pyproject.toml").write_text('[tool.policy]\nrequire_approval = "sometimes"\n')
    bad = cli(["check"], cwd=repo.root)
    assert bad.exit_code == 1 and "pyproject.toml:2:1: [tool.policy] require_approval is 'sometimes'; allowed" in bad.output
