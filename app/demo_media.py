"""Demo pictures for `make run`, drawn with Pillow (no binary files in the repository).

They enter the library the way an upload does (`uploads.receive` then `uploads.add_asset`), so
the worker makes their thumbnails and previews and the search index learns them like any other.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

# (file name, title, size, two gradient colours, headline, tags)
DEMO_PICTURES = (
    (
        "affiche-salon-2026.jpg",
        "Affiche du salon 2026",
        (1080, 1350),
        ((31, 95, 191), (14, 40, 89)),
        "Salon 2026",
        ("Salon 2026", "Affiche"),
    ),
    (
        "coulisses-du-stand.jpg",
        "Coulisses du stand",
        (1080, 1080),
        ((221, 107, 32), (120, 40, 20)),
        "Coulisses",
        ("Salon 2026", "Coulisses"),
    ),
    (
        "banniere-programme.jpg",
        "Bannière du programme",
        (1200, 628),
        ((30, 123, 69), (10, 60, 35)),
        "Programme",
        ("Programme",),
    ),
)


def picture(size: tuple[int, int], colours, headline: str) -> bytes:
    """A JPEG: a vertical gradient, a frame and a headline."""
    width, height = size
    top, bottom = colours
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / (height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    margin = width // 18
    draw.rectangle([margin, margin, width - margin, height - margin], outline=(255, 255, 255), width=6)
    font = ImageFont.load_default(size=width // 9)
    box = draw.textbbox((0, 0), headline, font=font)
    draw.text(
        ((width - (box[2] - box[0])) / 2, (height - (box[3] - box[1])) / 2), headline, font=font, fill=(255, 255, 255)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_pictures(user) -> list[int]:
    """Add the demo pictures (or find them: the same bytes are the same asset); their ids."""
    from app.media import tags, uploads

    ids = []
    for name, title, size, colours, headline, tag_names in DEMO_PICTURES:
        data = picture(size, colours, headline)
        received = uploads.receive(io.BytesIO(data), name, len(data))
        asset, duplicate = uploads.add_asset(received, user)
        if not duplicate:
            asset.title = title
            for tag_name in tag_names:
                tags.tag_assets([asset], tag_name, user)
        ids.append(asset.id)
    return ids
