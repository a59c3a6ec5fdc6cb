#!/usr/bin/env python3
"""Generate a realistic synthetic module tree of N modules (deterministic per seed).

Layout, like Asterisk's::

    OUT/apps/app_*.c  OUT/channels/chan_*.c  OUT/funcs/func_*.c  OUT/res/res_*.c
    OUT/catalog.toml  (the libraries, build options and built-ins the blocks name)

Each source is a compilable C module: a copyright header, the MODULEINFO block
near the top, ``#include "asterisk/module.h"``, plausible static functions
(with ``with_bodies``; sizes are log-normal, median ~25 KB, tail to ~200 KB),
``load_module``/``unload_module`` and ``AST_MODULE_INFO_STANDARD`` at the end.
With ``with_bodies=False`` the sources are tiny, for build benchmarks.

Dependencies look like a real tree's: most modules name 0-2 modules, a few hubs
(``res_pjsip``, ``res_stasis``...) are named by many, and a module only depends
on modules generated before it, so the required graph is acyclic.

    python bench/synth_tree.py OUT_DIR N [--seed S] [--tiny]
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

DIRECTORIES = (("res", "res_", 0.42), ("apps", "app_", 0.25), ("channels", "chan_", 0.08), ("funcs", "func_", 0.25))

# Hubs come first (so everyone may depend on them), with a weight for how often they are named.
HUBS = (("res", "res_pjsip", 40), ("res", "res_stasis", 12), ("res", "res_pjsip_session", 10),
        ("res", "res_odbc", 6), ("res", "res_ari", 6), ("res", "res_http_websocket", 5), ("res", "res_crypto", 4),
        ("res", "res_sorcery_astdb", 3), ("res", "res_speech", 3), ("res", "res_smdi", 2), ("res", "res_curl", 3),
        ("res", "res_fax", 3), ("res", "res_calendar", 2), ("res", "res_rtp_asterisk", 3))

LIBRARIES = {  # MODULEINFO name -> pkg-config / meson dependency name
    "pjproject": "libpjproject", "crypto": "libcrypto", "ssl": "libssl", "curl": "libcurl",
    "sqlite3": "sqlite3", "srtp": "libsrtp2", "jansson": "jansson", "uriparser": "liburiparser",
    "libxml2": "libxml-2.0", "libxslt": "libxslt", "zlib": "zlib", "speex": "speex", "speexdsp": "speexdsp",
    "opus": "opus", "ogg": "ogg", "vorbis": "vorbis", "gsm": "gsm", "ilbc": "ilbc", "spandsp": "spandsp",
    "unixodbc": "odbc", "pgsql": "libpq", "mysqlclient": "mysqlclient", "ldap": "ldap", "radius": "radcli",
    "neon": "neon", "ical": "libical", "iksemel": "iksemel", "snmp": "netsnmp", "lua": "lua", "bluetooth": "bluez",
    "dahdi": "dahdi", "pri": "libpri", "ss7": "libss7", "alsa": "alsa", "portaudio": "portaudio-2.0",
    "sndfile": "sndfile", "uuid": "uuid", "libedit": "libedit", "bfd": "bfd", "popt": "popt",
}
COMMON_LIBRARIES = ("pjproject", "crypto", "ssl", "curl", "sqlite3", "jansson", "libxml2", "srtp", "unixodbc", "zlib")
OPTIONS = ("TEST_FRAMEWORK", "OPTIONAL_API", "DONT_OPTIMIZE", "LOW_MEMORY", "BETTER_BACKTRACES")
BUILTINS = ("cdr", "cel", "http", "extconfig", "dnsmgr", "ccss", "enum", "udptl")
INTERFACES = ("sip", "stasis_app", "sorcery_wizard", "speech_engine", "calendar_tech", "fax_tech")

WORDS = ("agent", "alarm", "amd", "answer", "ari", "audio", "auth", "bridge", "buffer", "cache", "call", "caller",
         "channel", "chan", "chanspy", "codec", "conf", "config", "contact", "control", "cred", "curl", "db", "dial",
         "dialog", "digit", "directory", "dns", "dtmf", "echo", "endpoint", "event", "exec", "fax", "features",
         "file", "filter", "format", "frame", "hangup", "header", "hold", "http", "identity", "info", "jitter",
         "lock", "log", "mail", "media", "message", "milliwatt", "mixer", "monitor", "music", "mwi", "nat", "notify",
         "odbc", "options", "outbound", "page", "park", "path", "phone", "pickup", "playback", "presence", "pubsub",
         "queue", "read", "record", "redirect", "refer", "register", "rtp", "say", "sdp", "security", "session",
         "sms", "sorcery", "speech", "srtp", "state", "stasis", "stream", "system", "t38", "talk", "timer", "tone",
         "transfer", "transport", "trunk", "url", "user", "video", "voicemail", "wait", "websocket", "xml")


@dataclass
class SynthModule:
    name: str
    directory: str
    requires: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    optional_libraries: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)
    uses: list[tuple[str, bool]] = field(default_factory=list)
    support_level: str = "core"
    default_enabled: bool = True
    size: int = 0


def _names(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """(directory, name) for n modules: the hubs first, then the rest, unique."""
    out = [(d, name) for d, name, _ in HUBS[:n]]
    taken = {name for _, name in out}
    weights = [w for _, _, w in DIRECTORIES]
    while len(out) < n:
        directory, prefix, _ = rng.choices(DIRECTORIES, weights=weights)[0]
        parts = rng.sample(WORDS, rng.choice((1, 1, 2, 2, 2, 3)))
        name = prefix + "_".join(parts)
        if name in taken:
            continue
        taken.add(name)
        out.append((directory, name))
    return out


def plan(n_modules: int, seed: int = 0) -> list[SynthModule]:
    rng = random.Random(seed)
    names = _names(rng, n_modules)
    hub_weight = {name: w for _, name, w in HUBS}
    modules: list[SynthModule] = []
    providers: list[str] = []
    for index, (directory, name) in enumerate(names):
        m = SynthModule(name, directory)
        earlier = [x.name for x in modules]
        # Module dependencies: mostly 0-2, a few modules with many.
        degree = rng.choices((0, 1, 2, 3, 4, 6, 9), weights=(50, 22, 13, 7, 4, 3, 1))[0]
        degree = min(degree, len(earlier))
        hubs_here = [h for h in earlier if h in hub_weight]
        chosen: set[str] = set()
        for _ in range(degree * 3):
            if len(chosen) >= degree:
                break
            if hubs_here and rng.random() < 0.6:
                pick = rng.choices(hubs_here, weights=[hub_weight[h] for h in hubs_here])[0]
            else:
                pick = rng.choice(earlier)
            chosen.add(pick)
        m.requires = sorted(chosen)
        if earlier and rng.random() < 0.04:
            pick = rng.choice(earlier)
            if pick not in chosen:
                m.optional = [pick]
        # Libraries: about half name none; pjproject goes with res_pjsip users.
        if "res_pjsip" in chosen or name.startswith(("res_pjsip", "chan_pjsip")):
            m.libraries.append("pjproject")
        if rng.random() < 0.45:
            count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
            for _ in range(count):
                lib = rng.choice(COMMON_LIBRARIES) if rng.random() < 0.7 else rng.choice(sorted(LIBRARIES))
                if lib not in m.libraries:
                    m.libraries.append(lib)
        if rng.random() < 0.03:
            lib = rng.choice(sorted(LIBRARIES))
            if lib not in m.libraries:
                m.optional_libraries.append(lib)
        if rng.random() < 0.2:
            m.options.append("TEST_FRAMEWORK")
        if rng.random() < 0.02:
            m.options.append(rng.choice(OPTIONS[1:]))
        # Interfaces: some modules provide one, a few use one (a provider generated earlier).
        if rng.random() < 0.02 or (index < len(HUBS) and rng.random() < 0.5):
            m.provides.append(rng.choice(INTERFACES))
            providers.extend(m.provides)
        if providers and rng.random() < 0.03:
            m.uses.append((rng.choice(sorted(set(providers))), rng.random() < 0.5))
        m.support_level = rng.choices(("core", "extended", "deprecated", "external"), weights=(45, 45, 5, 5))[0]
        m.default_enabled = rng.random() >= 0.03
        # Source size: log-normal, median ~25 KB, long tail capped at ~200 KB.
        m.size = int(min(max(rng.lognormvariate(math.log(25_000), 0.75), 3_000), 200_000))
        modules.append(m)
    return modules


def moduleinfo(m: SynthModule) -> str:
    lines = ["/*** MODULEINFO"]
    lines += [f"\t<depend>{lib}</depend>" for lib in m.libraries]
    for i, dep in enumerate(m.requires):
        lines.append(f'\t<depend type="module">{dep}</depend>' if i % 2 else f"\t<depend>{dep}</depend>")
    lines += [f"\t<depend>{opt}</depend>" for opt in m.options]
    lines += [f'\t<use type="module">{dep}</use>' for dep in m.optional]
    lines += [f'\t<use type="external">{lib}</use>' for lib in m.optional_libraries]
    lines += [f"\t<provide>{iface}</provide>" for iface in m.provides]
    lines += [f'\t<{"depend" if req else "use"} type="interface">{iface}</{"depend" if req else "use"}>'
              for iface, req in m.uses]
    if not m.default_enabled:
        lines.append("\t<defaultenabled>no</defaultenabled>")
    lines.append(f"\t<support_level>{m.support_level}</support_level>")
    lines.append(" ***/")
    return "\n".join(lines) + "\n"


_HEADER = """/*
 * Asterisk -- An open source telephony toolkit.
 *
 * Copyright (C) {year}, Example Telephony, Inc.
 *
 * {author} <{email}>
 *
 * See http://www.asterisk.org for more information about
 * the Asterisk project. Please do not directly contact
 * any of the maintainers of this project for assistance;
 * the project provides a web site, mailing lists and IRC
 * channels for your use.
 *
 * This program is free software, distributed under the terms of
 * the GNU General Public License Version 2. See the LICENSE file
 * at the top of the source tree.
 */

/*! \\file
 *
 * \\brief {desc}
 *
 * \\author {author} <{email}>
 *
 * \\ingroup {group}
 */

"""

_INCLUDES = """#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asterisk/module.h"

"""

_AUTHORS = ("Mark Spencer", "Joshua Colp", "Kevin Harwell", "Richard Mudgett", "George Joseph", "Sean Bright",
            "Matt Jordan", "Ben Ford", "Naveen Albert", "Corey Farrell")


def _function(rng: random.Random, fname: str, words: list[str]) -> str:
    a, b = rng.sample(words, 2) if len(words) > 1 else (words[0], words[0])
    k1, k2, k3 = rng.randrange(3, 97), rng.randrange(1, 1 << 16), rng.randrange(2, 9)
    return f"""/*!
 * \\internal
 * \\brief Update the {a} state from a {b} event.
 *
 * \\param value The current {a} value.
 * \\param count How many {b} items to fold in.
 *
 * \\retval the new value (never negative)
 */
static int {fname}(int value, int count)
{{
	int i;
	int acc = value;
	char label[32];

	snprintf(label, sizeof(label), "{a}-%d", count);
	for (i = 0; i < count; i++) {{
		acc = (acc * {k1} + i) ^ 0x{k2:04x};
		if (acc < 0) {{
			/* Keep the value positive: the caller uses it as a slot index. */
			acc = -acc;
		}} else if (acc > 1000000) {{
			acc %= {k3}000;
		}}
	}}
	if (!strcmp(label, "{b}")) {{
		return 0;
	}}
	return acc + (int) strlen(label);
}}

"""


def source_text(m: SynthModule, rng: random.Random, with_bodies: bool = True) -> str:
    words = [w for w in m.name.split("_")[1:] if w] or ["module"]
    desc = " ".join(w.capitalize() for w in words) + " support"
    author = rng.choice(_AUTHORS)
    email = author.split()[0].lower() + "@example.com"
    group = {"res": "resources", "apps": "applications", "channels": "channel_drivers", "funcs": "functions"}[m.directory]
    parts = [_HEADER.format(year=rng.randrange(1999, 2024), author=author, email=email, desc=desc, group=group),
             moduleinfo(m), "\n", _INCLUDES]
    fnames: list[str] = []
    if with_bodies:
        size = len("".join(parts)) + 600
        stem = "_".join(words)
        while size < m.size:
            fname = f"{stem}_{rng.choice(WORDS)}_{len(fnames)}"
            chunk = _function(rng, fname, words + [rng.choice(WORDS)])
            parts.append(chunk)
            fnames.append(fname)
            size += len(chunk)
        parts.append("static int (*const handlers[])(int, int) = {\n")
        parts.extend(f"\t{f},\n" for f in fnames)
        parts.append("};\n\n")
    parts.append("static int load_module(void)\n{\n")
    if fnames:
        parts.append("\tsize_t i;\n\tint acc = 0;\n\n"
                     "\tfor (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {\n"
                     "\t\tacc = handlers[i](acc, 3);\n\t}\n"
                     "\treturn acc < 0 ? AST_MODULE_LOAD_DECLINE : AST_MODULE_LOAD_SUCCESS;\n")
    else:
        parts.append("\treturn AST_MODULE_LOAD_SUCCESS;\n")
    parts.append("}\n\nstatic int unload_module(void)\n{\n\treturn 0;\n}\n\n")
    parts.append(f'AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "{desc}");\n')
    return "".join(parts)


def catalog_text(modules: list[SynthModule]) -> str:
    used = sorted({lib for m in modules for lib in m.libraries + m.optional_libraries} | set(COMMON_LIBRARIES))
    lines = ["# Catalogue for the synthetic tree (generated by bench/synth_tree.py).",
             "options = [" + ", ".join(f'"{o}"' for o in OPTIONS) + "]",
             "builtins = [" + ", ".join(f'"{b}"' for b in BUILTINS) + "]",
             "platforms = [\"win32\"]", "", "[libraries]"]
    lines += [f'{lib} = "{LIBRARIES[lib]}"' for lib in used]
    return "\n".join(lines) + "\n"


def generate_tree(out_dir, n_modules: int, seed: int = 0, with_bodies: bool = True) -> dict:
    """Write the tree under ``out_dir``; returns its facts (paths, sizes, the plan)."""
    out = Path(out_dir)
    modules = plan(n_modules, seed)
    rng = random.Random(seed * 7919 + 1)
    sources: list[str] = []
    total = 0
    for directory, _, _ in DIRECTORIES:
        (out / directory).mkdir(parents=True, exist_ok=True)
    for m in modules:
        data = source_text(m, rng, with_bodies).encode("utf-8")
        path = out / m.directory / f"{m.name}.c"
        path.write_bytes(data)
        sources.append(str(path))
        total += len(data)
    catalog = out / "catalog.toml"
    catalog.write_text(catalog_text(modules))
    return {
        "root": str(out),
        "directories": [str(out / d) for d, _, _ in DIRECTORIES],
        "catalog": str(catalog),
        "sources": sources,
        "bytes": total,
        "modules": modules,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("n_modules", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="tiny bodies (for build benchmarks)")
    args = parser.parse_args()
    facts = generate_tree(args.out_dir, args.n_modules, args.seed, with_bodies=not args.tiny)
    sizes = sorted(Path(s).stat().st_size for s in facts["sources"])
    print(f"{len(sizes)} modules, {facts['bytes'] / 1e6:.1f} MB, median {sizes[len(sizes) // 2] / 1000:.1f} KB, "
          f"max {sizes[-1] / 1000:.1f} KB; catalogue {facts['catalog']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
