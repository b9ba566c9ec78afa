"""Publish the bundled checkpoints to a Hugging Face Hub repository (the release tool behind
``scripts/publish_weights.py``).

>>> publish("wincli/win-checkpoints", dry_run=True)        # doctest: +SKIP   the files it would add

Every file's sha256 is checked first; the repository's README.md is ``wincli.cards.hub_card``
(the cards of docs/models.md: measured numbers, training commands); everything goes up in one
commit with ``huggingface_hub.HfApi``.
"""

from __future__ import annotations


def publish(repo_id: str, revision: str = "main", dry_run: bool = False, api=None) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi

    from wincli.cards import hub_card
    from wincli.weights import bundled_dir, load_registry, verify, with_encoders

    folder = bundled_dir()
    records = load_registry()
    if folder is None or not records:
        from wincli.errors import WeightsError

        raise WeightsError("no bundled weights to publish")
    ops = []
    for r in with_encoders(records):  # each checkpoint and its one-pass encoder
        path = folder / r.file
        verify(r, path)
        ops.append(CommitOperationAdd(path_in_repo=r.file, path_or_fileobj=str(path)))
    card = hub_card(records, repo_id).encode()
    ops.append(CommitOperationAdd(path_in_repo="README.md", path_or_fileobj=card))
    ops.append(
        CommitOperationAdd(
            path_in_repo="registry.json", path_or_fileobj=str(folder / "registry.json")
        )
    )
    if dry_run:
        return "\n".join(op.path_in_repo for op in ops)
    api = api or HfApi()
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    info = api.create_commit(
        repo_id=repo_id,
        operations=ops,
        commit_message=f"wincli checkpoints ({len(records)} files)",
        revision=revision,
    )
    return info.oid
