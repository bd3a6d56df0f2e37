"""A small PDF writer for the tests: text pages in Helvetica, an optional outline, an optional image-only page."""

from __future__ import annotations

from pathlib import Path

Line = tuple[float, float, float, str]  # x, y (from the bottom), font size, text


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[Line]], outline: tuple[tuple[str, int], ...] = (), title: str = "",
              author: str = "") -> Path:  # fmt: skip
    """One Letter page per list of lines; `outline` names (title, page index) bookmarks; a page with no lines has
    only a picture (a scan)."""
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # filled in at the end
    pages_id = add("")
    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = add(b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream")  # fmt: skip
    page_ids = []
    for lines in pages:
        if lines:
            ops = "".join(f"BT /F1 {size:g} Tf {x:g} {y:g} Td ({_escape(text)}) Tj ET\n" for x, y, size, text in lines)
        else:
            ops = "q 612 0 0 792 0 0 cm /Im1 Do Q\n"
        data = ops.encode("cp1252")
        content = add(b"<< /Length %d >>\nstream\n" % len(data) + data + b"endstream")
        resources = f"<< /Font << /F1 {font} 0 R >> /XObject << /Im1 {image} 0 R >> >>"
        page_ids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                            f"/Resources {resources} >>"))  # fmt: skip
    outline_ref = ""
    if outline:
        root = add("")
        items = [len(objects) + 1 + n for n in range(len(outline))]
        for n, (name, page) in enumerate(outline):
            links = (f" /Prev {items[n - 1]} 0 R" if n else "") + (
                f" /Next {items[n + 1]} 0 R" if n + 1 < len(items) else "")  # fmt: skip
            add(f"<< /Title ({_escape(name)}) /Parent {root} 0 R /Dest [{page_ids[page]} 0 R /XYZ 0 792 0]{links} >>")
        objects[root - 1] = (f"<< /Type /Outlines /First {items[0]} 0 R /Last {items[-1]} 0 R "
                             f"/Count {len(items)} >>").encode()  # fmt: skip
        outline_ref = f" /Outlines {root} 0 R /PageMode /UseOutlines"
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R{outline_ref} >>".encode()
    info = add(f"<< /Title ({_escape(title)}) /Author ({_escape(author)}) >>")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, info, xref)  # fmt: skip
    path.write_bytes(bytes(out))
    return path
