"""Model cards, generated from weights/registry.json: docs/models.md and the Hub repository's
README.md render the same cards.

>>> text = render_model_cards(load_registry())           # doctest: +SKIP
>>> readme = hub_card(load_registry(), "wincli/win-checkpoints")   # doctest: +SKIP

``python scripts/model_cards.py`` writes docs/models.md; a test keeps it equal to what this
renders. ``wincli.publish`` uploads :func:`hub_card` beside the files.
"""

from __future__ import annotations

SECTION_NAMES = {
    "one_pass": "one-pass encoder (what `win` stores by default)",
    "8bit": "forward output, 8-bit",
    "refined": "refined",
    "float": "forward output, not rounded (the paper's hiding protocol)",
    **{f"jpeg_q{q}": f"8-bit, then a Pillow JPEG at q{q}" for q in (95, 90, 75, 50)},
}


def _metrics_table(metrics: dict) -> list[str]:
    rows = ["| set | stored image | PSNR dB (SSIM) |", "| --- | --- | --- |"]
    for set_name, entry in metrics.items():
        for section, label in SECTION_NAMES.items():
            m = entry.get(section)
            if not m:
                continue
            cells = ", ".join(
                f"{k.removesuffix('_psnr')} {v:.2f}"
                + (f" ({m[k.replace('_psnr', '_ssim')]:.4f})" if k.replace("_psnr", "_ssim") in m
                   else "")
                for k, v in m.items()
                if k.endswith("_psnr")
            )  # fmt: skip
            crop = f", {entry['crop']} crop" if entry.get("crop") else ""
            rows.append(f"| {set_name}{crop} | {label} | {cells} |")
    return rows


HUB_FRONT_MATTER = [
    "---",
    "license: mit",
    "library_name: wincli",
    "tags: [image-hiding, image-rescaling, decolorization, invertible-networks]",
    "---",
]


def hub_card(records, repo_id: str) -> str:
    """The Hub repository's README.md: its front matter, then the cards of docs/models.md."""
    intro = [
        f"# {repo_id}: WIN checkpoints for `wincli`",
        "",
        "Well-posed Invertible Networks (Huang & Huang, arXiv 2508.02111) trained with "
        "`win train`; `win` loads them by name (`--weights NAME`).",
        "",
    ]
    return "\n".join(HUB_FRONT_MATTER + intro) + _cards(
        records, title="## Model cards", source="registry.json"
    )


def render_model_cards(records, figures=frozenset()) -> str:
    """docs/models.md: one card per checkpoint, in registry order; ``figures``: the names with
    a figure in docs/figures (linked from their cards)."""
    return _cards(
        records,
        title="# Model cards",
        source="weights/registry.json` by `python scripts/model_cards.py",
        figures=figures,
    )


def figures_in(folder) -> frozenset[str]:
    """The figures (file stems) in ``folder``, as ``scripts/make_figures.py`` names them:
    ``NAME`` for a model, ``NAME-jpeg-q90`` for the plain and robust models after a JPEG."""
    from pathlib import Path

    return frozenset(p.stem for p in Path(folder).glob("*.png"))


def _figure(rec, figures) -> str | None:
    """The stem of ``rec``'s figure among ``figures``; a robust model's is its JPEG figure."""
    plain = rec.name.removesuffix("-robust")
    for stem in (rec.name, f"{plain}-jpeg-q90") if rec.robust else (rec.name,):
        if stem in figures:
            return stem
    return None


def _measured(rec, figures) -> list[str]:
    """A card's measured facts: 12 MP seconds, the bf16 decision, peak memory, its figure."""
    from wincli.precision import AUTO_MAX_LOSS_DB

    out = []
    if rec.seconds_12mp:
        t = rec.seconds_12mp
        out.append(
            f"- a 12 MP photo, end to end on {t['cores']} cores: store {t['store']} s, "
            f"restore {t['restore']} s (`{t['command']}`)"
        )
    if rec.bf16.get("delta_db"):
        worst = min(rec.bf16["delta_db"].values())
        pick = "bf16" if rec.bf16_ok else f"fp32 (over {AUTO_MAX_LOSS_DB} dB)"
        out.append(
            f"- bf16 against fp32 through 8-bit files: worst change {worst:+.3f} dB, so "
            f"`--precision auto` uses {pick} (`{rec.bf16['command']}`)"
        )
    if rec.bytes_per_pixel:
        out.append(
            f"- peak memory: {rec.bytes_per_pixel} bytes per pixel of the larger image, which "
            "sizes the tiles (`python scripts/bench_memory.py --per-model --write`)"
        )
    stem = _figure(rec, figures)
    if stem:
        out.append(f"- figure: [{stem}.png](figures/{stem}.png)")
    return out


def _cards(records, title: str, source: str, figures=frozenset()) -> str:
    sub = "#" * (title.count("#") + 1)
    out = [
        title,
        "",
        f"Generated from `{source}`; do not edit.",
        "PSNR through 8-bit images as `win eval` measures it (rescaling shaves `scale` pixels off",
        "the border). The default for a task is what `win` uses without `--weights`.",
        "",
    ]
    for rec in records:
        out += [f"{sub} {rec.name}", ""]
        out += [
            f"- task: {rec.spec.name}; variant {rec.variant}; preset {rec.preset}; "
            f"{rec.params:,} parameters{'; the default' if rec.default else ''}",
            f"- file: `{rec.file}`, sha256 `{rec.sha256}`",
        ]
        recipe = rec.recipe or {}
        if recipe.get("command"):
            out.append(f"- trained: `{recipe['command']}`")
        if recipe.get("steps"):
            out.append(f"- steps: {recipe['steps']}; data: {recipe.get('data', '-')}")
        if rec.robust:
            stages = rec.robust.get("stages") or [rec.robust]
            through = ", then ".join(
                f"q{s['jpeg']} for {s['share']:.0%} of each batch"
                + (f" ({s['steps']} steps)" if s.get("steps") else "")
                for s in stages
            )
            out.append(
                f"- JPEG-robust (`--robust`): trained through a real JPEG at {through}, the rest "
                "lossless"
            )
        if rec.encoder:
            enc = rec.encoder
            out.append(
                f"- one-pass encoder: `{enc['file']}` ({enc['params']:,} parameters), sha256 "
                f"`{enc['sha256']}`, trained: `{enc['recipe']['command']}`"
            )
            held = enc.get("heldout", {})
            if held:
                fo, op = held["forward_output"], held["one_pass"]
                out.append(
                    f"- held-out training photos ({held['crop']} crops), stored / restored: "
                    f"forward output {fo['stored_psnr']:.2f} / {fo['restored_psnr']:.2f}, "
                    f"one-pass {op['stored_psnr']:.2f} / {op['restored_psnr']:.2f}"
                )
        out += _measured(rec, figures)
        out += ["", *_metrics_table(rec.metrics), ""]
    return "\n".join(out).rstrip() + "\n"
