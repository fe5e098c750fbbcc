"""`policy codeowners`: a CODEOWNERS file from [tool.policy.owners], paths from the top of the
repository, the catch-all first; a stale file fails --check; bad tables are located."""

from __future__ import annotations

import shutil

import git

from conftest import build_root

OWNERS = ('[tool.policy.owners]\n"*" = ["@legal"]\nexceptions = ["@legal/exceptions", "counsel@example.com"]\n'
          'main = ["@legal/policy"]\nmodels = ["@safety"]\n')


def test_codeowners_from_the_owners_table(repo, cli, tmp_path):
    (repo.root / "pyproject.toml").write_text(OWNERS)
    result = cli(["codeowners"], cwd=repo.root)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == ["* @legal", "/exceptions/ @legal/exceptions counsel@example.com",
                                              "/policy/models.yaml @safety", "/policy/main.yaml @legal/policy"]
    target = repo.root / ".github" / "CODEOWNERS"
    target.parent.mkdir()
    target.write_text(result.output)
    assert cli(["codeowners", "--check", str(target)], cwd=repo.root).exit_code == 0
    (repo.root / "pyproject.toml").write_text(OWNERS.replace("@safety", "@safety-team"))
    stale = cli(["codeowners", "--check", str(target)], cwd=repo.root)
    assert stale.exit_code == 1 and "is stale" in stale.output
    missing = cli(["codeowners", "--check", str(tmp_path / "nope")], cwd=repo.root)
    assert missing.exit_code == 1


def test_a_policy_in_a_subfolder_of_the_repository(tmp_path, cli):
    top = tmp_path / "company"
    top.mkdir()
    root = build_root(top / "legal" / "policies")
    (root / "pyproject.toml").write_text('[tool.policy.owners]\n"*" = ["@legal"]\nexceptions = ["@deals"]\n')
    repository = git.Repo.init(top)
    repository.close()
    result = cli(["codeowners", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2:] == ["/legal/policies/ @legal", "/legal/policies/exceptions/ @deals"]
    shutil.rmtree(top / ".git")  # outside git: paths from the policy root
    assert cli(["codeowners", "--root", str(root)]).output.splitlines()[2:] == ["* @legal", "/exceptions/ @deals"]


def test_bad_tables_are_located(root, cli):
    assert cli(["codeowners"], cwd=root).exit_code == 1  # no table: says how to write one
    (root / "pyproject.toml").write_text('[tool.policy.owners]\nmian = ["@x"]\n')
    unknown = cli(["codeowners"], cwd=root)
    assert unknown.exit_code == 1
    assert "pyproject.toml:2:1: [tool.policy.owners] names 'mian', which is no document here; did you mean " \
           "'main'?" in unknown.output
    (root / "pyproject.toml").write_text('[tool.policy.owners]\nexceptions = ["legal team"]\n')
    bad = cli(["codeowners"], cwd=root)
    assert bad.exit_code == 1 and "'legal team' is not an owner; write @user, @org/team or an e-mail address" in bad.output
    assert cli(["check"], cwd=root).exit_code == 1  # the same error in `policy check`
