"""Benchmark: signed documents per second per process, against a bare WeasyPrint render.

    .venv/bin/python bench/documents.py                  # 60 documents, all kinds in turn
    .venv/bin/python bench/documents.py --count 200 --wins
    .venv/bin/python bench/documents.py --profile cprofile   # or pyinstrument (pip install)

For every document the platform pipeline (QR → template → PDF/A-3u → sign → hash) and a
bare render of the very same HTML (`HTML(string=...).write_pdf()` with the same parsed
stylesheet and fonts, no PDF/A, no signature) run back to back, alternating which goes
first, so both see the same machine load. The overhead is what the platform adds to the
bare render. `--wins` also times, in the same run, each optimisation against the naive
way (docs/documents-performance.md explains them). A benchmark prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from border_gate.documents import render
from border_gate.documents.authority import Authority, load_or_create_authority
from border_gate.documents.content import (
    CargoLine,
    Content,
    DocumentContent,
    DocumentKind,
    ReportContent,
    ReportSection,
    ReportTable,
)
from border_gate.documents.pipeline import produce
from border_gate.documents.sign import sign_pdf, signature_field_name
from workflows.model import Channel, Direction, Stage

KINDS = list(DocumentKind)
CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60" width="120mm" height="36mm">'
    + "".join(
        f'<rect x="{10 + 16 * i}" y="{60 - h}" width="12" height="{h}" fill="#1b7f3b"/>'
        for i, h in enumerate((20, 35, 50, 42, 28, 55, 47, 31, 22, 38, 44))
    )
    + "</svg>"
)


def sample(kind: DocumentKind) -> Content:
    """A realistic document of `kind` with a fresh id (as each real document has)."""
    document_id = str(uuid.uuid4())
    verify_url = f"https://cuakhauso.langson.gov.vn/verify/{document_id}"
    issued_at = datetime.now(UTC)
    if kind is DocumentKind.REPORT:
        return ReportContent(
            document_id=document_id,
            title_vi="Báo cáo thông quan tháng 11/2026",
            title_en="Clearance report, November 2026",
            issued_at=issued_at,
            issuer="Ban quản lý — Phòng Tổng hợp",
            verify_url=verify_url,
            period="01/11/2026 – 30/11/2026",
            sections=[
                ReportSection(
                    heading_vi="Lưu lượng xe",
                    heading_en="Truck throughput",
                    paragraphs=["Số xe qua cửa khẩu tăng 12 % so với tháng trước."],
                    charts_svg=[CHART],
                    tables=[
                        ReportTable(
                            columns=["Cửa khẩu / Gate", "Xe / Trucks", "Giờ / Hours"],
                            rows=[
                                ["Hữu Nghị", "21 450", "5,2"],
                                ["Tân Thanh", "9 870", "6,8"],
                                ["Chi Ma", "3 120", "4,1"],
                                ["Cốc Nam", "1 045", "3,9"],
                            ],
                            numeric_columns=[1, 2],
                        )
                    ],
                )
            ],
        )
    extra: dict[str, Any] = {}
    if kind is DocumentKind.YARD_TICKET:
        extra = {"yard_position": "B-17"}
    elif kind is DocumentKind.QUARANTINE_CERTIFICATE:
        extra = {
            "stage": Stage.PLANT_QUARANTINE,
            "decision_reason": "Không phát hiện sinh vật gây hại",
        }
    elif kind is DocumentKind.CUSTOMS_RELEASE:
        extra = {
            "channel": Channel.YELLOW,
            "decision_reason": "Hồ sơ phù hợp, chấp nhận thông quan",
        }
    return DocumentContent(
        document_id=document_id,
        kind=kind,
        declaration_id=str(uuid.uuid4()),
        declaration_number="HN-2026-000123",
        direction=Direction.EXPORT,
        gate_code="HUU_NGHI",
        gate_name_vi="Cửa khẩu quốc tế Hữu Nghị",
        gate_name_en="Huu Nghi International Border Gate",
        plate="12C-345.67",
        trailer_plate="12R-012.34",
        driver_name="Nguyễn Văn Hùng",
        firm_name="Công ty TNHH Nông sản Xanh Lạng Sơn",
        issued_at=issued_at,
        issuer="Trần Thị Mai",
        verify_url=verify_url,
        cargo=[
            CargoLine(
                hs_code="08106000",
                description="Sầu riêng tươi",
                gross_weight_kg=18500,
                packages=740,
            ),
            CargoLine(
                hs_code="08045020", description="Xoài tươi", gross_weight_kg=2500, packages=100
            ),
            CargoLine(
                hs_code="08109094",
                description="Thanh long ruột đỏ",
                gross_weight_kg=1200,
                packages=60,
            ),
        ],
        facts=[("Số hợp đồng", "Contract no.", "HĐ-2026/77")],
        **extra,
    )


def bare_render(html: str) -> bytes:
    """WeasyPrint alone: the same HTML, parsed stylesheet and fonts; no PDF/A, no signature."""
    engine = render.render_engine()
    return HTML(string=html, base_url=engine.base_url).write_pdf(
        stylesheets=[engine.stylesheet], font_config=engine.font_config
    )


def bare_render_pdfa(html: str) -> bytes:
    """The bare render asked for PDF/A-3u: what the PDF/A variant alone costs."""
    engine = render.render_engine()
    return HTML(string=html, base_url=engine.base_url).write_pdf(
        stylesheets=[engine.stylesheet], font_config=engine.font_config, pdf_variant="pdf/a-3u"
    )


def ms(seconds: float) -> float:
    return seconds * 1000.0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def row(name: str, values: list[float], per_doc: bool = True) -> str:
    median = statistics.median(values)
    rate = f"{1000.0 / statistics.mean(values):8.1f}" if per_doc else " " * 8
    return f"  {name:<34}{rate}  {median:9.2f}  {p95(values):9.2f}"


def run_comparison(count: int, authority: Authority) -> None:
    bare: list[float] = []
    bare_cpu: list[float] = []
    bare_pdfa: list[float] = []
    total: list[float] = []
    total_cpu: list[float] = []
    steps: dict[str, list[float]] = {
        name: [] for name in ("qr", "templating", "render", "signing", "hashing")
    }
    sizes: list[int] = []
    for i in range(count):
        content = sample(KINDS[i % len(KINDS)])
        html = render.render_html(content)

        def pipeline(content: Content = content) -> None:
            started, cpu = time.perf_counter(), time.thread_time()
            produced = produce(content, authority)
            total.append(ms(time.perf_counter() - started))
            total_cpu.append(ms(time.thread_time() - cpu))
            timings = produced.timings
            steps["qr"].append(timings.qr_ms)
            steps["templating"].append(timings.templating_ms)
            steps["render"].append(timings.render_ms)
            steps["signing"].append(timings.signing_ms)
            steps["hashing"].append(timings.hashing_ms)
            sizes.append(produced.size)

        def plain(html: str = html) -> None:
            started, cpu = time.perf_counter(), time.thread_time()
            bare_render(html)
            bare.append(ms(time.perf_counter() - started))
            bare_cpu.append(ms(time.thread_time() - cpu))

        def plain_pdfa(html: str = html) -> None:
            started = time.perf_counter()
            bare_render_pdfa(html)
            bare_pdfa.append(ms(time.perf_counter() - started))

        # Rotate the order so no variant always runs on a warmer cache.
        order = [pipeline, plain, plain_pdfa]
        for step in order[i % 3 :] + order[: i % 3]:
            step()

    overheads = [t - b for t, b in zip(total, bare, strict=True)]
    print(f"\n{count} documents ({', '.join(k.value for k in KINDS)} in turn), one process")
    print(f"  {'':<34}{'docs/s':>8}  {'median ms':>9}  {'p95 ms':>9}")
    print(row("bare WeasyPrint render", bare))
    print(row("bare render, as PDF/A-3u", bare_pdfa))
    print(row("platform pipeline (total)", total))
    for name, values in steps.items():
        print(row(f"  step: {name}", values, per_doc=False))
    print(row("platform minus bare (per document)", overheads, per_doc=False))
    print(
        f"\n  overhead over the bare render: "
        f"{100 * statistics.median(overheads) / statistics.median(bare):.1f} % (median of paired "
        f"differences / median bare), "
        f"{100 * (statistics.mean(total) / statistics.mean(bare) - 1):.1f} % (means)"
    )
    own = [
        q + t + s + h
        for q, t, s, h in zip(
            steps["qr"], steps["templating"], steps["signing"], steps["hashing"], strict=True
        )
    ]
    print(
        f"  the platform's own steps (QR + templating + signing + hashing): median "
        f"{statistics.median(own):.2f} ms = "
        f"{100 * statistics.median(own) / statistics.median(bare):.1f} % of the bare render"
    )
    print(
        f"  CPU time per document: bare {statistics.median(bare_cpu):.1f} ms, "
        f"pipeline {statistics.median(total_cpu):.1f} ms "
        f"({100 * (statistics.median(total_cpu) / statistics.median(bare_cpu) - 1):.1f} %)"
    )
    print(f"  signed PDF size: median {statistics.median(sizes) / 1024:.1f} KiB")


# --- Each optimisation against the naive way ----------------------------------------------


def timed(function: Callable[[], object], count: int) -> list[float]:
    values = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        values.append(ms(time.perf_counter() - started))
    return values


def rsa_authority(directory: Path) -> Authority:
    from border_gate.documents.authority import load_authority, new_self_signed

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    _, template = new_self_signed()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(template.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.not_valid_before_utc)
        .not_valid_after(template.not_valid_after_utc)
        .add_extension(
            template.extensions.get_extension_for_class(x509.KeyUsage).value, critical=True
        )
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "rsa-key.pem", directory / "rsa-cert.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return load_authority(key_file, cert_file)


def stock_pyhanko_sign(pdf: bytes, authority: Authority, document_id: str) -> bytes:
    """pyHanko as documented: SimpleSigner from PEM files, sign_pdf (asyncio.run inside)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    assert authority.key_file is not None and authority.cert_file is not None
    signer = signers.SimpleSigner.load(str(authority.key_file), str(authority.cert_file))
    assert signer is not None
    metadata = signers.PdfSignatureMetadata(
        field_name=signature_field_name(document_id),
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, metadata, signer=signer).getvalue()


def run_wins(count: int, authority: Authority, workdir: Path) -> None:
    content = sample(DocumentKind.QUARANTINE_CERTIFICATE)
    html = render.render_html(content)
    unsigned = render.html_to_pdf(html)
    engine = render.render_engine()
    css_text = render.STYLESHEET.read_text(encoding="utf-8")

    def fresh_engine_render() -> bytes:
        fonts = FontConfiguration()
        css = CSS(
            string=css_text, base_url=engine.base_url, url_fetcher=engine.fetcher, font_config=fonts
        )
        return HTML(string=html, base_url=engine.base_url, url_fetcher=engine.fetcher).write_pdf(
            stylesheets=[css], font_config=fonts, pdf_variant=render.PDF_VARIANT
        )

    def fonttools_render() -> bytes:
        # What a worker without Debian's libharfbuzz-subset0 does: WeasyPrint falls back to
        # fontTools (and logs a warning per font, silenced here).
        import logging

        import weasyprint.pdf.fonts as pdf_fonts

        saved, pdf_fonts.harfbuzz_subset = pdf_fonts.harfbuzz_subset, None
        logger = logging.getLogger("weasyprint")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            return render.html_to_pdf(html)
        finally:
            pdf_fonts.harfbuzz_subset = saved
            logger.setLevel(level)

    rsa = rsa_authority(workdir)
    sign_pdf(unsigned, rsa, content.document_id)  # build its CMS template outside the timing
    url = content.verify_url
    comparisons: list[tuple[str, list[float], list[float]]] = [
        (
            "fonts: HarfBuzz subset / fontTools",
            timed(lambda: render.html_to_pdf(html), max(5, count // 4)),
            timed(fonttools_render, max(5, count // 4)),
        ),
        (
            "render: engine reused / new each doc",
            timed(lambda: render.html_to_pdf(html), count),
            timed(fresh_engine_render, count),
        ),
        (
            "QR: fixed mask / segno scores 8",
            timed(lambda: render.verification_qr_svg(url), count),
            timed(
                lambda: segno.make(url, error="m", micro=False).svg_inline(
                    scale=1, border=4, omitsize=True
                ),
                count,
            ),
        ),
        (
            "sign: ours / stock pyHanko",
            timed(lambda: sign_pdf(unsigned, authority, content.document_id), count),
            timed(lambda: stock_pyhanko_sign(unsigned, authority, content.document_id), count),
        ),
        (
            "sign: ECDSA P-256 / RSA-3072",
            timed(lambda: sign_pdf(unsigned, authority, content.document_id), count),
            timed(lambda: sign_pdf(unsigned, rsa, content.document_id), count),
        ),
    ]
    print(f"\nOptimisations, each against the naive way ({count} runs each, median ms)")
    print(f"  {'':<40}{'ours':>9}  {'naive':>9}  {'saved':>9}")
    for name, ours, naive in comparisons:
        a, b = statistics.median(ours), statistics.median(naive)
        print(f"  {name:<40}{a:9.2f}  {b:9.2f}  {b - a:9.2f}")


def run_profile(kind: str, count: int, authority: Authority) -> None:
    contents = [sample(KINDS[i % len(KINDS)]) for i in range(count)]
    if kind == "pyinstrument":
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("pyinstrument is not installed: .venv/bin/pip install pyinstrument")
            return
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for content in contents:
            produce(content, authority)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return
    profile = cProfile.Profile()
    profile.enable()
    for content in contents:
        produce(content, authority)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60, help="documents to time (default 60)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed documents first")
    parser.add_argument("--wins", action="store_true", help="time each optimisation too")
    parser.add_argument("--profile", choices=("cprofile", "pyinstrument"))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-documents-") as directory:
        workdir = Path(directory)
        authority = load_or_create_authority(workdir)
        started = time.perf_counter()
        render.render_engine()
        print(
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f}"
        )
        print(
            f"Engine set-up (fonts, stylesheet), once per thread: {ms(time.perf_counter() - started):.0f} ms"
        )
        for i in range(args.warmup):
            content = sample(KINDS[i % len(KINDS)])
            produce(content, authority)
            bare_render(render.render_html(content))
        if args.profile:
            run_profile(args.profile, args.count, authority)
            return 0
        run_comparison(args.count, authority)
        if args.wins:
            run_wins(max(10, args.count // 3), authority, workdir)
        print(f"\nLoad average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
