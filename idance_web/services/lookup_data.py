"""Curated lookup lists: dance styles, interests, social platforms and admin-1 crosswalks.

Bump ``DATA_REVISION`` whenever anything in this module changes: the lookup loader compares
its version string with the one stored in the database and reloads when they differ.
"""

from __future__ import annotations

DATA_REVISION = 1

# (slug, name, family, partnered). Families: latin, afro, ballroom, swing, tango, street,
# concert (ballet, contemporary, jazz...), folk (folk and cultural), social, fitness.
DANCE_STYLES: list[tuple[str, str, str, bool]] = [
    ("salsa", "Salsa", "latin", True),
    ("salsa_cubana", "Salsa Cubana (Casino)", "latin", True),
    ("rueda_de_casino", "Rueda de Casino", "latin", True),
    ("bachata", "Bachata", "latin", True),
    ("merengue", "Merengue", "latin", True),
    ("mambo", "Mambo", "latin", True),
    ("cumbia", "Cumbia", "latin", True),
    ("brazilian_zouk", "Brazilian Zouk", "latin", True),
    ("forro", "Forró", "latin", True),
    ("samba_de_gafieira", "Samba de Gafieira", "latin", True),
    ("samba_no_pe", "Samba no Pé", "latin", False),
    ("reggaeton", "Reggaeton", "latin", False),
    ("kizomba", "Kizomba", "afro", True),
    ("urban_kiz", "Urban Kiz", "afro", True),
    ("semba", "Semba", "afro", True),
    ("afrobeats", "Afrobeats", "afro", False),
    ("afro_house", "Afro House", "afro", False),
    ("waltz", "Waltz", "ballroom", True),
    ("viennese_waltz", "Viennese Waltz", "ballroom", True),
    ("foxtrot", "Foxtrot", "ballroom", True),
    ("quickstep", "Quickstep", "ballroom", True),
    ("ballroom_tango", "Ballroom Tango", "ballroom", True),
    ("cha_cha", "Cha-cha-cha", "ballroom", True),
    ("rumba", "Rumba", "ballroom", True),
    ("samba", "Samba (Ballroom)", "ballroom", True),
    ("paso_doble", "Paso Doble", "ballroom", True),
    ("jive", "Jive", "ballroom", True),
    ("lindy_hop", "Lindy Hop", "swing", True),
    ("west_coast_swing", "West Coast Swing", "swing", True),
    ("east_coast_swing", "East Coast Swing", "swing", True),
    ("balboa", "Balboa", "swing", True),
    ("collegiate_shag", "Collegiate Shag", "swing", True),
    ("charleston", "Charleston", "swing", False),
    ("solo_jazz", "Solo Jazz", "swing", False),
    ("boogie_woogie", "Boogie Woogie", "swing", True),
    ("rock_and_roll", "Acrobatic Rock and Roll", "swing", True),
    ("argentine_tango", "Argentine Tango", "tango", True),
    ("milonga", "Milonga", "tango", True),
    ("tango_vals", "Tango Vals", "tango", True),
    ("hip_hop", "Hip-Hop", "street", False),
    ("breaking", "Breaking", "street", False),
    ("popping", "Popping", "street", False),
    ("locking", "Locking", "street", False),
    ("house", "House", "street", False),
    ("waacking", "Waacking", "street", False),
    ("vogue", "Vogue", "street", False),
    ("krump", "Krump", "street", False),
    ("dancehall", "Dancehall", "street", False),
    ("heels", "Heels", "street", False),
    ("commercial", "Commercial", "street", False),
    ("ballet", "Ballet", "concert", False),
    ("contemporary", "Contemporary", "concert", False),
    ("modern", "Modern", "concert", False),
    ("jazz", "Jazz", "concert", False),
    ("lyrical", "Lyrical", "concert", False),
    ("tap", "Tap", "concert", False),
    ("flamenco", "Flamenco", "folk", False),
    ("sevillanas", "Sevillanas", "folk", True),
    ("irish_step", "Irish Step Dance", "folk", False),
    ("bollywood", "Bollywood", "folk", False),
    ("bharatanatyam", "Bharatanatyam", "folk", False),
    ("kathak", "Kathak", "folk", False),
    ("belly_dance", "Belly Dance", "folk", False),
    ("hula", "Hula", "folk", False),
    ("polka", "Polka", "folk", True),
    ("square_dance", "Square Dance", "folk", True),
    ("line_dance", "Line Dance", "folk", False),
    ("country_two_step", "Country Two-Step", "social", True),
    ("hustle", "Hustle", "social", True),
    ("modern_jive", "Modern Jive (Ceroc)", "social", True),
    ("blues", "Blues", "social", True),
    ("fusion", "Fusion", "social", True),
    ("contact_improvisation", "Contact Improvisation", "social", True),
    ("zumba", "Zumba", "fitness", False),
    ("pole_dance", "Pole Dance", "fitness", False),
]

# (slug, name, category)
INTERESTS: list[tuple[str, str, str]] = [
    ("social_dancing", "Social dancing", "dance"),
    ("performing", "Performing", "dance"),
    ("competing", "Competitions", "dance"),
    ("teaching", "Teaching", "dance"),
    ("choreography", "Choreography", "dance"),
    ("festivals", "Dance festivals", "dance"),
    ("workshops", "Workshops", "dance"),
    ("practice_partner", "Finding a practice partner", "dance"),
    ("djing", "DJing", "music"),
    ("live_music", "Live music", "music"),
    ("music_production", "Music production", "music"),
    ("singing", "Singing", "music"),
    ("yoga", "Yoga", "fitness"),
    ("pilates", "Pilates", "fitness"),
    ("fitness", "Fitness", "fitness"),
    ("photography", "Photography", "arts"),
    ("videography", "Videography", "arts"),
    ("fashion", "Fashion", "arts"),
    ("theatre", "Theatre", "arts"),
    ("travel", "Travel", "lifestyle"),
    ("languages", "Languages", "lifestyle"),
    ("cooking", "Cooking", "lifestyle"),
]

# (slug, name, url_template, handle_pattern). Patterns avoid look-around so that both
# Python's `re` and SurrealDB's `string::matches` (Rust regex) accept them.
SOCIAL_PLATFORMS: list[tuple[str, str, str, str]] = [
    ("instagram", "Instagram", "https://www.instagram.com/{handle}", r"^[A-Za-z0-9._]{1,30}$"),
    ("tiktok", "TikTok", "https://www.tiktok.com/@{handle}", r"^[A-Za-z0-9._]{2,24}$"),
    ("youtube", "YouTube", "https://www.youtube.com/@{handle}", r"^[A-Za-z0-9._-]{3,30}$"),
    ("facebook", "Facebook", "https://www.facebook.com/{handle}", r"^[A-Za-z0-9.]{5,50}$"),
    ("x", "X", "https://x.com/{handle}", r"^[A-Za-z0-9_]{1,15}$"),
    ("threads", "Threads", "https://www.threads.net/@{handle}", r"^[A-Za-z0-9._]{1,30}$"),
    (
        "bluesky",
        "Bluesky",
        "https://bsky.app/profile/{handle}",
        r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    ),
    ("vimeo", "Vimeo", "https://vimeo.com/{handle}", r"^[A-Za-z0-9_]{3,32}$"),
    ("soundcloud", "SoundCloud", "https://soundcloud.com/{handle}", r"^[a-z0-9_-]{3,25}$"),
    ("spotify", "Spotify", "https://open.spotify.com/user/{handle}", r"^[A-Za-z0-9._-]{1,64}$"),
    ("mixcloud", "Mixcloud", "https://www.mixcloud.com/{handle}/", r"^[A-Za-z0-9_-]{1,50}$"),
    ("twitch", "Twitch", "https://www.twitch.tv/{handle}", r"^[A-Za-z0-9_]{4,25}$"),
    ("linkedin", "LinkedIn", "https://www.linkedin.com/in/{handle}", r"^[A-Za-z0-9-]{3,100}$"),
    # The "handle" of a website is its whole address.
    (
        "website",
        "Website",
        "{handle}",
        r"^https?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
        r"\.[A-Za-z]{2,63}(:[0-9]{1,5})?(/[^\s]*)?$",
    ),
]

# GeoNames admin-1 codes are mostly FIPS 10-4 codes, not ISO 3166-2. These countries use
# codes equal to the ISO 3166-2 suffix (checked city by city); elsewhere a textual match is
# usually a coincidence that lands on the wrong subdivision (Tokyo is "40", ISO JP-40 is
# Fukuoka), so it is not trusted.
ADMIN1_IS_ISO = frozenset(
    "US GB BE CH IE PH MA UG ZM BF GN MW ME LU AD TL MR LI SM NR TV BQ".split()
)

# Hand crosswalks "geonames ISO-suffix ...", each checked against the largest cities of every
# code; consulted before ADMIN1_IS_ISO.
_CROSSWALK_TEXT = {
    "DE": "01 BW 02 BY 03 HB 04 HH 05 HE 06 NI 07 NW 08 RP 09 SL 10 SH 11 BB 12 MV 13 SN "
    "14 ST 15 TH 16 BE",
    "ES": "51 AN 52 AR 53 CN 54 CM 55 CL 56 CT 57 EX 58 GA 59 PV 60 VC 07 IB 27 RI 29 MD "
    "31 MC 32 NC 34 AS 39 CB CE CE ML ML",
    "FR": "11 IDF 24 CVL 27 BFC 28 NOR 32 HDF 44 GES 52 PDL 53 BRE 75 NAQ 76 OCC 84 ARA 93 PAC "
    "94 20R",
    "IT": "01 65 02 77 03 78 04 72 05 45 06 36 07 62 08 42 09 25 10 57 11 67 12 21 13 75 "
    "14 88 15 82 16 52 17 32 18 55 19 23 20 34",
    "BR": "01 AC 02 AL 03 AP 04 AM 05 BA 06 CE 07 DF 08 ES 29 GO 13 MA 14 MT 11 MS 15 MG "
    "16 PA 17 PB 18 PR 30 PE 20 PI 21 RJ 22 RN 23 RS 24 RO 25 RR 26 SC 27 SP 28 SE 31 TO",
    "AR": "01 B 02 K 03 H 04 U 05 X 06 W 07 C 08 E 09 P 10 Y 11 L 12 F 13 M 14 N 15 Q "
    "16 R 17 A 18 J 19 D 20 Z 21 S 22 G 23 V 24 T",
    "CA": "01 AB 02 BC 03 MB 04 NB 05 NL 07 NS 08 ON 09 PE 10 QC 11 SK 12 YT 13 NT 14 NU",
    # FIPS numbers follow the romanised prefecture names alphabetically (Okinawa last).
    "JP": "01 23 02 05 03 02 04 12 05 38 06 18 07 40 08 07 09 21 10 10 11 34 12 01 13 28 "
    "14 08 15 17 16 03 17 37 18 46 19 14 20 39 21 43 22 26 23 24 24 04 25 45 26 20 "
    "27 42 28 29 29 15 30 44 31 33 32 27 33 41 34 11 35 25 36 32 37 22 38 09 39 36 "
    "40 13 41 31 42 16 43 30 44 06 45 35 46 19 47 47",
    "MX": "01 AGU 02 BCN 03 BCS 04 CAM 05 CHP 06 CHH 07 COA 08 COL 09 CMX 10 DUR 11 GUA "
    "12 GRO 13 HID 14 JAL 15 MEX 16 MIC 17 MOR 18 NAY 19 NLE 20 OAX 21 PUE 22 QUE 23 ROO "
    "24 SLP 25 SIN 26 SON 27 TAB 28 TAM 29 TLA 30 VER 31 YUC 32 ZAC",
    # The odd ones out in countries that otherwise use ISO codes.
    "PH": "NCR 00",
    "GN": "04 C",
}


def _pairs(text: str) -> dict[str, str]:
    words = text.split()
    return dict(zip(words[::2], words[1::2]))


ADMIN1_CROSSWALK: dict[str, dict[str, str]] = {
    cc: _pairs(text) for cc, text in _CROSSWALK_TEXT.items()
}
