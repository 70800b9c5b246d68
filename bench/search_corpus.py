"""A realistic, reproducible media library for bench/search.py: French and English titles,
tags, filenames, kinds, dates and uploaders, and the misspellings users make."""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

SUBJECTS_FR = (
    "affiche", "inauguration", "conférence de presse", "portrait", "visite officielle", "salon",
    "forum de l'emploi", "festival", "exposition", "concert", "atelier", "réunion publique",
    "cérémonie", "lancement", "campagne", "vœux du maire", "marché de Noël", "portes ouvertes",
    "remise des prix", "assemblée générale", "chantier", "rénovation", "médiathèque", "piscine",
    "collège", "gymnase", "fête de la musique", "carnaval", "brocante", "marathon", "conseil "
    "municipal", "rentrée scolaire", "bibliothèque", "patrimoine", "randonnée", "compétition",
    "spectacle", "théâtre", "cinéma en plein air", "feu d'artifice", "commémoration",
    "signature de convention", "plan vélo", "tramway", "jardins partagés", "recrutement",
    "bénévoles", "solidarité", "vaccination", "prévention", "sécurité routière",
    "environnement", "tri sélectif", "économies d'énergie", "transition écologique",
    "numérique", "innovation", "artisanat", "tourisme", "gastronomie", "vendanges",
    "agriculture", "forêt", "rivière", "plage", "montagne", "jeunesse", "seniors", "handball",
    "football", "natation", "cyclisme", "danse", "photographie", "vidéo", "interview",
    "reportage", "témoignage", "communiqué", "newsletter", "bannière", "infographie",
    "dépliant", "brochure", "kakémono", "carte de vœux", "déménagement", "illuminations")
SUBJECTS_EN = (
    "poster", "press kit", "product launch", "team photo", "keynote", "webinar",
    "summer campaign", "newsletter banner", "behind the scenes", "testimonial",
    "recruitment drive", "trade show", "award ceremony", "open day", "annual report",
    "brand guidelines", "social media teaser", "launch video", "case study", "customer story",
    "event recap", "highlights reel", "livestream", "podcast cover", "infographic", "flyer",
    "roll-up banner", "thank you card", "holiday greetings", "job fair", "volunteers",
    "workshop", "hackathon", "meetup", "partnership announcement", "sustainability report",
    "city marathon", "music festival", "art exhibition", "farmers market", "opening night",
    "charity gala", "sports day", "graduation", "conference", "panel discussion", "site visit",
    "groundbreaking", "headquarters", "storytelling")
PLACES = (
    "Villeurbanne", "Grenoble", "Montpellier", "Besançon", "Saint-Étienne", "Aix-en-Provence",
    "Périgueux", "Nîmes", "Orléans", "Clermont-Ferrand", "Annecy", "Chambéry", "Valence",
    "Montélimar", "Avignon", "Arles", "Perpignan", "Béziers", "Narbonne", "Carcassonne",
    "Toulouse", "Montauban", "Albi", "Rodez", "Cahors", "Agen", "Pau", "Bayonne", "Biarritz",
    "Mont-de-Marsan", "Bordeaux", "Libourne", "Angoulême", "Poitiers", "Niort", "La Rochelle",
    "Rochefort", "Saintes", "Limoges", "Brive-la-Gaillarde", "Tulle", "Guéret", "Châteauroux",
    "Bourges", "Nevers", "Auxerre", "Dijon", "Beaune", "Chalon-sur-Saône", "Mâcon",
    "Bourg-en-Bresse", "Roanne", "Vienne", "Vichy", "Moulins", "Montluçon", "Le Puy-en-Velay",
    "Aurillac", "Mende", "Millau", "Sète", "Lunel", "Alès", "Uzès", "Orange", "Carpentras",
    "Cavaillon", "Apt", "Manosque", "Digne-les-Bains", "Gap", "Briançon", "Embrun", "Sisteron",
    "Draguignan", "Fréjus", "Cannes", "Grasse", "Antibes", "Nice", "Menton", "Toulon",
    "Hyères", "Marseille", "Aubagne", "La Ciotat", "Martigues", "Istres", "Salon-de-Provence",
    "Lyon", "Villefranche-sur-Saône", "Givors", "Écully", "Bron", "Vénissieux", "Caluire",
    "Rillieux-la-Pape", "Oullins", "Tassin", "Meyzieu", "Décines", "Saint-Priest", "Vaulx-en-Velin",
    "Nantes", "Rennes", "Brest", "Quimper", "Lorient", "Vannes", "Saint-Malo", "Angers",
    "Le Mans", "Laval", "Tours", "Blois", "Chartres", "Évreux", "Rouen", "Le Havre", "Caen",
    "Cherbourg", "Alençon", "Amiens", "Beauvais", "Compiègne", "Lille", "Roubaix", "Tourcoing",
    "Dunkerque", "Calais", "Boulogne-sur-Mer", "Arras", "Douai", "Valenciennes", "Reims",
    "Troyes", "Metz", "Nancy", "Épinal", "Strasbourg", "Colmar", "Mulhouse", "Belfort",
    "Montbéliard", "Lons-le-Saunier", "Pontarlier", "Ajaccio", "Bastia", "Versailles",
    "Nanterre", "Créteil", "Bobigny", "Montreuil", "Vincennes")
FIRST = ("Jeanne", "Émile", "Agathe", "Louis", "Chloé", "Hugo", "Inès", "Théo", "Léa", "Jules",
         "Manon", "Gabriel", "Camille", "Raphaël", "Zoé", "Arthur", "Louise", "Nathan", "Clémence",
         "Maël", "Eléonore", "Bastien", "Océane", "Timothée", "Solène", "Quentin", "Anaïs",
         "Baptiste", "Margaux", "Étienne", "Noémie", "Antoine", "Pauline", "Mathis", "Juliette",
         "Samuel", "Héloïse", "Victor", "Romane", "Yanis")
LAST = ("Dupont", "Garnier", "Lefèvre", "Moreau", "Fontaine", "Chevalier", "Rousseau",
        "Lambert", "Bonnet", "François", "Mercier", "Girard", "Faure", "André", "Gauthier",
        "Perrin", "Morel", "Blanchard", "Guérin", "Boyer", "Roussel", "Lemaire", "Marchand",
        "Duval", "Denis", "Brunet", "Schmitt", "Colin", "Vidal", "Caron", "Picard", "Roger",
        "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
        "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq",
        "Guillaume", "Lecomte")
TAGS = (
    "salon", "été 2026", "été 2025", "hiver 2025", "recrutement", "noël", "presse",
    "réseaux sociaux", "instagram", "facebook", "linkedin", "youtube", "tiktok", "vidéo",
    "interview", "portrait", "événement", "communiqué", "partenaires", "sport", "culture",
    "jeunesse", "environnement", "mobilité", "santé", "éducation", "économie", "tourisme",
    "patrimoine", "urbanisme", "élus", "conseil municipal", "solidarité", "seniors", "famille",
    "emploi", "formation", "numérique", "innovation", "agriculture", "gastronomie", "musique",
    "théâtre", "cinéma", "exposition", "festival", "marché", "travaux", "voirie", "transport",
    "vélo", "sécurité", "prévention", "logo", "charte graphique", "print", "web", "affichage",
    "print 4x3", "abribus", "newsletter", "brand", "campaign", "launch", "press release",
    "behind the scenes", "team", "event", "summer", "winter", "spring", "autumn", "b-roll",
    "drone", "timelapse", "archive", "à valider", "validé", "brouillon", "droits à vérifier",
    "libre de droits", "crédit obligatoire", "usage interne")
CREDITS = ("Crédit photo : {first} {last}.", "Photo prise lors de l'événement à {place}.",
           "Visuel pour la campagne {subject} sur Instagram et Facebook.",
           "Picture taken at the {subject_en} in {place}.",
           "Used for the {subject_en} posts on LinkedIn.",
           "Version validée par le service communication.", "Droits négociés jusqu'en {year}.",
           "Prise de vue : {first} {last}, agence de {place}.")
KINDS = (("image", "image/jpeg", 70), ("video", "video/mp4", 15),
         ("document", "application/pdf", 15))
NEIGHBOURS = dict(zip("azertyuiopqsdfghjklmwxcvbn",
                      ("qzs", "aer", "zrd", "etf", "ryg", "tuh", "yij", "uok", "ipl", "om",
                       "sw", "qdz", "sfe", "dgr", "fht", "gjy", "hku", "jli", "kmo", "lp",
                       "xs", "wcd", "xvf", "cbg", "vnh", "bj")))
EPOCH = datetime(2023, 1, 1, tzinfo=timezone.utc)


def words_of(text: str) -> list[str]:
    """Lowercase, accent-free words, as both engines index them."""
    folded = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    return re.findall(r"[a-z0-9]+", "".join(c for c in folded if not unicodedata.combining(c)))


def slug(text: str) -> str:
    return "-".join(words_of(text))


@dataclass
class Asset:
    id: int
    title: str
    description: str
    filename: str
    kind: str
    mime: str
    created_at: datetime
    uploader: int
    tags: list[str] = field(default_factory=list)


def _title(rng: random.Random, year: int) -> str:
    place, person = rng.choice(PLACES), f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    pattern = rng.randrange(6)
    if pattern == 0:
        title = f"{rng.choice(SUBJECTS_FR)} {place} {year}"
    elif pattern == 1:
        title = f"{rng.choice(SUBJECTS_FR)} – {person}"
    elif pattern == 2:
        title = f"{rng.choice(SUBJECTS_EN)} {place} {year}"
    elif pattern == 3:
        title = f"{rng.choice(SUBJECTS_FR)} {rng.choice(SUBJECTS_FR)} {place}"
    elif pattern == 4:
        title = f"portrait {person}, {rng.choice(SUBJECTS_FR)} {place}"
    else:
        title = f"{rng.choice(SUBJECTS_EN)}: {person} at {place}"
    return title[0].upper() + title[1:]


def _filename(rng: random.Random, kind: str, title: str, created: datetime) -> str:
    number, stamp = rng.randrange(10_000), created.strftime("%Y%m%d")
    if kind == "image":
        return rng.choice((f"IMG_{number:04d}.jpg", f"DSC{number:05d}.JPG",
                           f"PXL_{stamp}_{number}.jpg", f"{slug(title)}.jpg"))
    if kind == "video":
        return rng.choice((f"VID_{stamp}_{number}.mp4", f"{slug(title)}_v{rng.randrange(1, 4)}.mp4"))
    return rng.choice((f"{slug(title)}.pdf", f"communique_{stamp}.pdf"))


def generate(count: int, uploaders: list[int], seed: int = 42) -> list[Asset]:
    rng = random.Random(seed)
    kinds = [k for k, _, weight in KINDS for _ in range(weight)]
    mimes = {k: mime for k, mime, _ in KINDS}
    span = int((datetime(2026, 11, 1, tzinfo=timezone.utc) - EPOCH).total_seconds())
    assets = []
    for number in range(1, count + 1):
        created = EPOCH + timedelta(seconds=rng.randrange(span))
        title = _title(rng, rng.choice((created.year, created.year + 1)))
        kind = rng.choice(kinds)
        description = " ".join(rng.choice(CREDITS).format(
            first=rng.choice(FIRST), last=rng.choice(LAST), place=rng.choice(PLACES),
            subject=rng.choice(SUBJECTS_FR), subject_en=rng.choice(SUBJECTS_EN),
            year=created.year + 1) for _ in range(rng.choice((0, 1, 1, 2))))
        assets.append(Asset(number, title, description, _filename(rng, kind, title, created),
                            kind, mimes[kind], created, rng.choice(uploaders),
                            rng.sample(TAGS, rng.choice((0, 1, 2, 2, 3, 4)))))
    return assets


def misspell(rng: random.Random, word: str) -> str:
    """Typos within Meilisearch's budget for the word as typed (one from five letters, two
    from nine), never on the first letter, as a hurried typist makes them: a neighbouring
    key, a letter lost, doubled or two letters swapped."""
    edits = 2 if len(word) >= 10 and rng.random() < 0.5 else 1
    shortest = 9 if edits == 2 else 5
    for _ in range(edits):
        position = rng.randrange(1, len(word) - 1)
        letter = word[position]
        operation = rng.randrange(4 if len(word) > shortest else 3)
        if operation == 0 and letter in NEIGHBOURS:
            word = word[:position] + rng.choice(NEIGHBOURS[letter]) + word[position + 1:]
        elif operation == 1:
            word = word[:position] + letter + word[position:]
        elif operation == 2:
            word = word[:position] + word[position + 1] + letter + word[position + 2:]
        else:
            word = word[:position] + word[position + 1:]
    return word
