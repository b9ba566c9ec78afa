"""The conversion verbs: hide / reveal, downscale / upscale, decolorize / colorize (files or
folders in, files out, one model load per command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wincli.cli.common import (
    AskPassOpt,
    CheckOpt,
    LossyOpt,
    Method,
    MethodOpt,
    ModelFlags,
    PassOpt,
    ScaleOpt,
    StripOpt,
    app,
    check_scale,
    conversion_options,
    each_file,
    expand_inputs,
    get_passphrase,
    guarded,
    make_output_folder,
    no_collisions,
    progress_bar,
    report,
    run_per_file,
)
from wincli.options import STEALTH_MAX_PAYLOAD, STEALTH_PAYLOAD, check_payload

BitsOpt = Annotated[int, typer.Option("--bits", help="lsb: low bits per cover channel, 1-4.")]
PayloadOpt = Annotated[
    float | None,
    typer.Option(
        "--payload",
        help=f"stealth: bits per cover channel value, above 0 and at most {STEALTH_MAX_PAYLOAD} "
        f"(default {STEALTH_PAYLOAD}); less is harder to detect and holds smaller secrets.",
        show_default=False,
    ),
]
CodecOpt = Annotated[
    str,
    typer.Option(
        "--codec",
        help="lsb, jpeg: auto (the best that fits; jpeg: AVIF too), webp, jpeg or avif.",
    ),
]
FitOpt = Annotated[
    str | None,
    typer.Option(
        "--fit",
        help="WIN: a secret of another aspect ratio than the cover: stretch, crop or pad "
        "(default: refuse when it differs by more than 3%).",
    ),
]
PairOpt = Annotated[
    str,
    typer.Option("--pair", help="Folders: pair covers and secrets by sorted 'order' or 'name'."),
]
SecretsOpt = Annotated[
    int,
    typer.Option(
        "-n",
        "--secrets",
        help="WIN: how many were hidden (must match the hide; lsb, jpeg: not needed).",
    ),
]
RevealOutOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="Folder for secret1.png ...")
]
CoverOpt = Annotated[bool, typer.Option("--cover", help="Also write the recovered cover.png.")]
UnsealedOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="win: reveal even an image whose seal is missing or names another -n "
        "or other weights (a stego written before seals; an edited one likely reveals noise)."
    ),
]  # fmt: skip


def folder_jobs(covers: Path, secrets: list[Path], output: Path | None, pair: str):
    """[(cover, [secret per folder], target)] for ``win hide`` over folders."""
    from wincli.errors import InputError, OutputError

    if pair not in ("order", "name"):
        raise InputError(f"--pair must be order or name, not {pair!r}")
    if not all(p.is_dir() for p in secrets):
        raise InputError("a cover folder needs secret folders (one per secret)")
    if output is None or (output.exists() and not output.is_dir()):
        raise OutputError("a cover folder needs -o DIR (a folder for the stego images)")
    cover_files = expand_inputs([covers])
    secret_files = [expand_inputs([d]) for d in secrets]
    if pair == "name":
        by_name = [{f.stem: f for f in fs} for fs in secret_files]
        jobs = [
            (c, [m[c.stem] for m in by_name])
            for c in cover_files
            if all(c.stem in m for m in by_name)
        ]
    else:
        jobs = list(zip(cover_files, zip(*secret_files, strict=False), strict=False))
        jobs = [(c, list(s)) for c, s in jobs]
    if not jobs:
        raise InputError(f"no cover/secret pairs found (pairing by {pair})")
    make_output_folder([c for c, _ in jobs], output, "a cover folder needs")
    return [(c, secs, output / f"{c.stem}.png") for c, secs in jobs]


@app.command()
@guarded
@conversion_options()
def hide(
    cover: Annotated[Path, typer.Argument(help="Cover image.")],
    secrets: Annotated[list[Path], typer.Argument(help="1 to 4 secret images.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Stego PNG.")] = None,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    strip_metadata: StripOpt = False,
    method: MethodOpt = Method.win,
    bits: BitsOpt = 1,
    payload: PayloadOpt = None,
    codec: CodecOpt = "auto",
    passphrase: PassOpt = None,
    ask_passphrase: AskPassOpt = False,
    fit: FitOpt = None,
    pair: PairOpt = "order",
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Hide 1-4 secret images inside COVER; the stego image looks like the cover.

    Which --method (512 px cover and secret; P_E = a color rich-model detector's error, 0.5 =
    cannot tell): win, the network: stego 40.5 dB, secret 39.0, P_E 0.01, no JPEG survives;
    lsb: 51.3 / 41.2, P_E 0.11; jpeg: 40.4 / 27.9, P_E 0.21, survives JPEG q75 or better and
    crops of up to 16 px; stealth: 70.1 / 26.4, P_E 0.39-0.43 at the default --payload.

    With folders (win hide COVERS/ SECRETS/ [SECRETS2/ ...] -o OUT/) every cover gets one
    secret from each folder, in one process with one model load; stegos are OUT/<cover>.png.
    """
    from wincli.errors import InputError
    from wincli.io import require_inputs
    from wincli.verbs import hide_classical_file, hide_file

    if not 1 <= len(secrets) <= 4:
        raise InputError(f"hide takes 1 to 4 secrets, got {len(secrets)}")
    if method != Method.win or payload is not None:  # one validation for a file and a folder
        check_classical_options(method, codec, bits, flags.robust, payload)
    require_inputs([cover, *secrets])
    jobs = hide_jobs(cover, secrets, output, pair)
    if method != Method.win:
        key = get_passphrase(passphrase, ask_passphrase, confirm=True)
        opts = dict(bits=bits, payload=payload, passphrase=key, codec=codec, check=check,
                    force_lossy=force_lossy, method=method.value)  # fmt: skip
        keep_going = flags.keep_going and len(jobs) > 1
        each_file(jobs, lambda j: report(hide_classical_file(*j, **opts)), keep_going, job_files)
        return
    conv = flags.load("hiding", secrets=len(secrets))
    with progress_bar(conv, len(jobs)) as advance:

        def one(job) -> None:
            c, secs, target = job
            try:
                report(
                    hide_file(
                        conv, c, secs, target, force_lossy=force_lossy, check=check, fit=fit,
                        strip_metadata=strip_metadata,
                    )
                )  # fmt: skip
            finally:
                advance()

        each_file(jobs, one, flags.keep_going and len(jobs) > 1, name=job_files)


def job_files(job) -> str:
    """A hide job's files, for its error line: "cover.png + secret.png"."""
    cover, secrets, _ = job
    return " + ".join(str(p) for p in (cover, *secrets))


def check_classical_options(
    method: Method, codec: str, bits: int, robust: bool = False, payload: float | None = None
) -> None:
    from wincli.errors import InputError

    if payload is not None and method != Method.stealth:
        raise InputError("--payload is for --method stealth")
    if robust:
        survives = "is written to survive JPEG q75 or better" if method == Method.jpeg else (
            "does not survive a JPEG (--method jpeg does)"
        )  # fmt: skip
        raise InputError(f"--robust is a WIN model; --method {method.value} {survives}")
    if codec not in ("auto", "webp", "jpeg", "avif"):
        raise InputError(f"--codec must be auto, webp, jpeg or avif, not {codec!r}")
    if not 1 <= bits <= 4:
        raise InputError(f"--bits must be 1 to 4, not {bits}")
    if method == Method.jpeg and bits != 1:
        raise InputError("--bits is for --method lsb; --method jpeg writes one bit per slot")
    if method == Method.stealth and bits != 1:
        raise InputError("--bits is for --method lsb; --method stealth takes --payload")
    if payload is not None:
        check_payload(payload)


def hide_jobs(cover: Path, secrets: list[Path], output: Path | None, pair: str):
    """[(cover, secrets, stego)] for one cover file, or for a folder of covers."""
    from wincli.errors import InputError

    if cover.is_dir():
        return folder_jobs(cover, secrets, output, pair)
    if any(p.is_dir() for p in secrets):
        raise InputError("secret folders need a cover folder (win hide COVERS/ SECRETS/ -o OUT/)")
    return [(cover, list(secrets), output or cover.with_name(f"{cover.stem}_stego.png"))]


@app.command()
@guarded
@conversion_options()
def reveal(
    stegos: Annotated[list[Path], typer.Argument(help="Stego image(s) or folder(s).")],
    secrets: SecretsOpt = 1,
    output: RevealOutOpt = None,
    with_cover: CoverOpt = False,
    strip_metadata: StripOpt = False,
    force: UnsealedOpt = False,
    method: MethodOpt = Method.win,
    passphrase: PassOpt = None,
    ask_passphrase: AskPassOpt = False,
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Recover the secret images from STEGO (secret1.png ... secretN.png).

    A WIN stego carries a seal in its last bits (public, like the secrets: anyone with win
    can reveal them): reveal refuses an image with nothing hidden, and names the -n and
    --weights of the hide when they differ (--force reveals anyway). A JPEG copy loses the
    seal; with --robust, reveal of a lossy file goes on without the check. --method lsb, jpeg
    and stealth know what they hid (the payload is authenticated) and say so too.
    """
    from wincli.errors import InputError
    from wincli.verbs import reveal_classical_file, reveal_file

    if not 1 <= secrets <= 4:
        raise InputError(f"--secrets must be 1 to 4, not {secrets}")
    files = expand_inputs(stegos)
    per_file = len(files) > 1 or any(p.is_dir() for p in stegos)  # OUT/<stem>/secret1.png
    if output is not None and per_file:
        no_collisions(files, output)
    if method != Method.win:
        check_classical_options(method, "auto", 1, flags.robust)
        key = get_passphrase(passphrase, ask_passphrase)

        def classical(f: Path) -> None:
            dest = output / f.stem if (output is not None and per_file) else output
            report(reveal_classical_file(f, dest, passphrase=key, method=method.value))

        each_file(files, classical, flags.keep_going and per_file)
        return
    conv = flags.load("hiding", secrets=secrets)

    def one(f: Path) -> None:
        dest = output / f.stem if (output is not None and per_file) else output
        with progress_bar(conv):
            result = reveal_file(
                conv, f, dest, with_cover=with_cover, strip_metadata=strip_metadata, force=force
            )
        report(result)

    each_file(files, one, flags.keep_going and per_file)


@app.command()
@guarded
@conversion_options(store=True)
def downscale(
    inputs: Annotated[list[Path], typer.Argument(help="HR image(s) or folder(s).")],
    scale: ScaleOpt = 2,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="LR PNG, or a folder (ending in /).")
    ] = None,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    strip_metadata: StripOpt = False,
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Downscale by 2 or 4 into an LR image that `win upscale` restores."""
    from wincli.verbs import downscale_file

    check_scale(scale)
    run_per_file(
        "rescaling",
        inputs,
        output,
        lambda f: f"{f.stem}_x{scale}_lr.png",
        lambda c, f, o: downscale_file(
            c, f, o, force_lossy=force_lossy, check=check, strip_metadata=strip_metadata
        ),
        flags,
        scale=scale,
    )


@app.command()
@guarded
@conversion_options()
def upscale(
    inputs: Annotated[list[Path], typer.Argument(help="LR image(s) made by `win downscale`.")],
    scale: ScaleOpt = 2,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="HR PNG, or a folder (ending in /).")
    ] = None,
    strip_metadata: StripOpt = False,
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Restore the high-resolution image from an LR image (exact original size)."""
    from wincli.verbs import upscale_file

    check_scale(scale)
    run_per_file(
        "rescaling",
        inputs,
        output,
        lambda f: f"{f.stem}_x{scale}.png",
        lambda c, f, o: upscale_file(c, f, o, strip_metadata=strip_metadata),
        flags,
        scale=scale,
    )


@app.command()
@guarded
@conversion_options(store=True)
def decolorize(
    inputs: Annotated[list[Path], typer.Argument(help="Colour image(s) or folder(s).")],
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Gray PNG, or a folder (ending in /).")
    ] = None,
    check: CheckOpt = False,
    force_lossy: LossyOpt = False,
    strip_metadata: StripOpt = False,
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Make a grayscale image that carries its own colours."""
    from wincli.verbs import decolorize_file

    run_per_file(
        "decolorization",
        inputs,
        output,
        lambda f: f"{f.stem}_gray.png",
        lambda c, f, o: decolorize_file(
            c, f, o, force_lossy=force_lossy, check=check, strip_metadata=strip_metadata
        ),
        flags,
    )


@app.command()
@guarded
@conversion_options()
def colorize(
    inputs: Annotated[list[Path], typer.Argument(help="Gray image(s) made by `win decolorize`.")],
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Colour PNG, or a folder (ending in /)."),
    ] = None,
    strip_metadata: StripOpt = False,
    flags: ModelFlags = ModelFlags(),
) -> None:
    """Restore the colours of a gray image made by `win decolorize`."""
    from wincli.verbs import colorize_file

    run_per_file(
        "decolorization",
        inputs,
        output,
        lambda f: f"{f.stem}_color.png",
        lambda c, f, o: colorize_file(c, f, o, strip_metadata=strip_metadata),
        flags,
    )
