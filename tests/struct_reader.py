"""Read Asterisk's real ``struct ast_module_info __mod_info`` out of a built module, without loading it.

An independent check of injection, apart from buildtool's own record: the member
offsets come from gcc compiling ``offsetof`` against the tree's own headers, the
struct's bytes from the ELF symbol ``__mod_info`` (pyelftools), and its string
pointers from the dynamic relocations that would fill them at load time.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

FIELDS = ("name", "description", "requires", "optional_modules", "enhances")

_PROGRAM = """
#include "asterisk.h"
#include "asterisk/module.h"
#include <stddef.h>
#include <stdio.h>
int main(void) {
%s
	return 0;
}
"""


def asterisk_offsets(root: Path) -> dict[str, int]:
    body = "\n".join(f'\tprintf("{f} %zu\\n", offsetof(struct ast_module_info, {f}));' for f in FIELDS)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "offsets.c"
        source.write_text(_PROGRAM % body)
        exe = Path(tmp) / "offsets"
        subprocess.run(["gcc", "-o", str(exe), str(source), f"-I{root / 'include'}", "-DAST_MODULE=\"offsets\"",
                        "-DAST_MODULE_SELF_SYM=offsets_self", "-DASTMM_LIBC=ASTMM_IGNORE"], check=True,
                       capture_output=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def _string_at(elf: ELFFile, address: int) -> str:
    for section in elf.iter_sections():
        start = section["sh_addr"]
        if start and start <= address < start + section["sh_size"] and section["sh_type"] != "SHT_NOBITS":
            data = section.data()
            offset = address - start
            return data[offset:data.index(b"\0", offset)].decode("utf-8")
    raise AssertionError(f"no section holds address {address:#x}")


def read_mod_info(path: Path, offsets: dict[str, int]) -> dict[str, str]:
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        symbol = elf.get_section_by_name(".symtab").get_symbol_by_name("__mod_info")[0]
        base = symbol["st_value"]
        addends = {}
        for section in elf.iter_sections():
            if isinstance(section, RelocationSection) and section.is_RELA():
                for reloc in section.iter_relocations():
                    addends[reloc["r_offset"]] = reloc["r_addend"]
        out = {}
        for name, offset in offsets.items():
            target = addends.get(base + offset)
            if target is None:  # a NULL pointer needs no relocation
                out[name] = ""
                continue
            out[name] = _string_at(elf, target)
        return out

