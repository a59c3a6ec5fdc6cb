"""The module reader (buildtool/elfinfo.py), against pyelftools, a second and independent ELF reader.

Record bytes here are packed by the test itself with ``struct`` (the layout of include/asterisk/module.h:
magic, ABI version, struct size, flags, text size, then ``key=value\\0`` text), not by the reader under test.
"""

from __future__ import annotations

import atexit
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import pytest

from buildtool.elfinfo import RecordError, parse_record, read_binary, read_binary_data, read_record
from helpers.check import build, module_source, needs_cc, write_sources

TEXT = b"name=res_a\0requires=res_b,res_c\0description=A\0"


def record(text: bytes = TEXT, text_size: int | None = None, order: str = "<", abi: int = 1,
           magic: bytes = b"ASTMODI\0") -> bytes:
    return magic + struct.pack(order + "IIII", abi, 232, 1, len(text) if text_size is None else text_size) + text


@pytest.mark.parametrize("order", ["<", ">"])
def test_record_is_read_in_either_byte_order(order):
    got = parse_record("m.so", record(order=order), order == "<", "EM_X")
    assert (got.abi_version, got.struct_size, got.flags) == (1, 232, 1)
    assert got.fields == {"name": "res_a", "requires": "res_b,res_c", "description": "A"}
    assert got.list("requires") == ("res_b", "res_c") and got.list("enhances") == ()


def test_record_read_in_the_wrong_byte_order_is_refused():
    with pytest.raises(RecordError, match="ABI version 16777216"):
        parse_record("m.so", record(order=">"), True, "EM_X")


@pytest.mark.parametrize("data, message", [
    (record(text_size=len(TEXT) + 10), "truncated"),                      # text runs past the section
    (record(text=TEXT[:-1]), "truncated"),                                 # last entry not terminated
    (record(text=TEXT + b"requires=res_z"), "truncated"),                  # a trailing entry cut off
    (record(text=TEXT, text_size=len(TEXT) - 1), "truncated"),             # size stops before the NUL
    (record()[:20], "does not start with the module record magic"),         # header cut
    (record(magic=b"ASTMODX\0"), "does not start with the module record magic"),
    (record(text=b"name=res_a\0garbage\0"), "malformed module record entry b'garbage'"),
])
def test_damaged_record_is_an_error_not_empty_fields(data, message):
    with pytest.raises(RecordError, match=message):
        parse_record("m.so", data, True, "EM_X")


def test_record_text_past_the_declared_size_is_not_read():
    got = parse_record("m.so", record(text=TEXT + b"enhances=res_q\0", text_size=len(TEXT)), True, "EM_X")
    assert "enhances" not in got.fields


_BUILT: dict[str, dict[str, Path]] = {}


def built_with(cc: str) -> dict[str, Path]:
    """res_a and res_b built with ``cc``, once per process (in a directory removed at exit): the tests only
    read them, or copy them before changing a byte."""
    if cc not in _BUILT:
        root = Path(tempfile.mkdtemp(prefix="records-"))
        atexit.register(shutil.rmtree, root, True)
        src = write_sources(root / "src", {
            "res_a": module_source(body="int res_a_api(void) { return 1; }\n"
                                        "__attribute__((visibility(\"hidden\"))) int res_a_hidden(void) { return 2; }"),
            "res_b": module_source(requires=["res_a"], body="extern int res_a_api(void);\n"
                                                           "extern int res_b_maybe(void) __attribute__((weak));\n"
                                                           "int use(void) { return res_a_api() + "
                                                           "(res_b_maybe ? res_b_maybe() : 0); }"),
        })
        # libm: a DT_NEEDED entry on every target (each cross libc6-dev has it)
        _BUILT[cc] = build(src, root / "out", cc=cc, extra=("-Wl,-rpath,/opt/one:/opt/two", "-Wl,-soname,mod.so",
                                                           "-Wl,--no-as-needed", "-lm"))
    return _BUILT[cc]


def test_record_fields_exactly():
    text = (b"name=res_a\0\0description=a=b \xe9X\0requires=res_b,,res_c\0enhances=\0support_level=core\0"
            b"provides=X\0")
    got = parse_record("m.so", record(text=text), True, "EM_X")
    assert (got.path, got.machine) == ("m.so", "EM_X")
    # an empty entry is skipped, not the end; "=" inside a value stays; bad UTF-8 is replaced, not fatal
    assert got.fields == {"name": "res_a", "description": "a=b \ufffdX", "requires": "res_b,,res_c", "enhances": "",
                          "support_level": "core", "provides": "X"}
    assert got.to_json() == {"path": "m.so", "machine": "EM_X", "abi_version": 1, "struct_size": 232, "flags": 1,
                             "flag_names": ["GLOBAL_SYMBOLS"],
                             "name": "res_a", "description": "a=b \ufffdX", "requires": ["res_b", "res_c"],
                             "enhances": [], "support_level": "core", "provides": ["X"]}


def test_header_fields_are_unsigned():
    data = b"ASTMODI\0" + struct.pack("<IIII", 1, 0x80000000, 0xFFFFFFFF, len(TEXT)) + TEXT
    got = parse_record("m.so", data, True, "EM_X")
    assert (got.struct_size, got.flags) == (0x80000000, 0xFFFFFFFF)


def test_error_messages_name_the_file_and_the_cause(tmp_path):
    with pytest.raises(RecordError) as info:
        parse_record("m.so", record(abi=2), True, "EM_X")
    assert str(info.value) == ("m.so: module record ABI version 2, this buildtool reads 1; "
                               "rebuild the module against this module.h")
    with pytest.raises(RecordError) as info:   # exactly a header and no text: truncated, not bad magic
        parse_record("m.so", record(text=b""), True, "EM_X")
    assert str(info.value) == "m.so: module record text is truncated"
    long = b"x" * 60
    with pytest.raises(RecordError) as info:
        parse_record("m.so", record(text=long + b"\0"), True, "EM_X")
    assert str(info.value) == f"m.so: malformed module record entry {long[:40]!r}"
    with pytest.raises(RecordError) as info:
        read_record(str(tmp_path / "missing.so"))
    assert str(info.value) == f"{tmp_path / 'missing.so'}: cannot read: No such file or directory"
    (tmp_path / "text.so").write_bytes(b"hello, not an ELF file at all" * 4)
    with pytest.raises(RecordError) as info:
        read_record(str(tmp_path / "text.so"))
    assert str(info.value) == f"{tmp_path / 'text.so'}: not an ELF file"
    with pytest.raises(RecordError) as info:
        read_record("/usr/lib/x86_64-linux-gnu/libc.so.6" if Path("/usr/lib/x86_64-linux-gnu/libc.so.6").exists()
                    else sys.executable)
    assert str(info.value).endswith(": no .ast_modinfo section: not built with buildtool's module.h")


@needs_cc
def test_truncated_record_in_a_real_module(tmp_path):
    # The text size in a built module's record raised past the section: both readers refuse it.
    so = tmp_path / "res_a.so"
    shutil.copy2(built_with("gcc")["res_a"], so)
    data = so.read_bytes()
    at = data.index(b"ASTMODI\0")
    (text_size,) = struct.unpack_from("<I", data, at + 20)
    so.write_bytes(data[:at + 20] + struct.pack("<I", text_size + 4096) + data[at + 24:])
    with pytest.raises(RecordError, match="truncated"):
        read_record(str(so))
    fast = read_binary(str(so))
    assert fast.record is None and fast.record_error == "module record text is truncated"


# ------------------------------------------------------------------ the fast reader against pyelftools

# (compiler, ELF class, little endian, e_machine): both classes and both byte orders.
CROSS = [("gcc", 64, True, "EM_X86_64"), ("i686-linux-gnu-gcc", 32, True, "EM_386"),
         ("aarch64-linux-gnu-gcc", 64, True, "EM_AARCH64"), ("powerpc-linux-gnu-gcc", 32, False, "EM_PPC"),
         ("s390x-linux-gnu-gcc", 64, False, "EM_S390")]
CROSS_PACKAGES = {"i686-linux-gnu-gcc": "gcc-i686-linux-gnu", "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
                  "powerpc-linux-gnu-gcc": "gcc-powerpc-linux-gnu", "s390x-linux-gnu-gcc": "gcc-s390x-linux-gnu"}


def _pyelftools_view(path):
    """What elfinfo.read_binary must find, read by pyelftools (a second, independent ELF reader)."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        defined, undefined, weak = set(), set(), set()
        for symbol in elf.get_section_by_name(".dynsym").iter_symbols():
            bind, kind = symbol["st_info"]["bind"], symbol["st_info"]["type"]
            if not symbol.name or bind not in ("STB_GLOBAL", "STB_WEAK", "STB_LOOS") or kind in ("STT_SECTION",
                                                                                                 "STT_FILE"):
                continue
            if symbol["st_shndx"] == "SHN_UNDEF":
                (weak if bind == "STB_WEAK" else undefined).add(symbol.name)
            elif symbol["st_other"]["visibility"] in ("STV_DEFAULT", "STV_PROTECTED"):
                defined.add(symbol.name)
        tags = list(elf.get_section_by_name(".dynamic").iter_tags())
        record = elf.get_section_by_name(".ast_modinfo").data()
        return {
            "elfclass": elf.elfclass, "little_endian": elf.little_endian, "machine": elf["e_machine"],
            "defined": defined, "undefined": undefined, "weak": weak,
            "needed": [t.needed for t in tags if t.entry.d_tag == "DT_NEEDED"],
            "runpath": [p for t in tags if t.entry.d_tag in ("DT_RUNPATH", "DT_RPATH")
                        for p in (t.runpath if t.entry.d_tag == "DT_RUNPATH" else t.rpath).split(":") if p],
            "soname": next((t.soname for t in tags if t.entry.d_tag == "DT_SONAME"), None),
            "header": struct.unpack_from(("<" if elf.little_endian else ">") + "8sIIII", record, 0),
            # the record's text split here, not by the reader under test
            "fields": dict(item.decode().split("=", 1) for item in record[24:].split(b"\0") if item),
        }


@pytest.mark.parametrize("cc, elfclass, little, machine", CROSS, ids=[c[0] for c in CROSS])
def test_fast_reader_agrees_with_pyelftools_on_every_class_and_byte_order(cc, elfclass, little,
                                                                           machine):
    from buildtool.loader.abi import struct_size
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')}; the README's test command "
                    "installs it)")
    built = built_with(cc)
    for name, path in built.items():
        fast = read_binary(str(path))
        ref = _pyelftools_view(path)
        assert (fast.elfclass, fast.little_endian, fast.machine) == (elfclass, little, machine)
        assert (ref["elfclass"], ref["little_endian"], ref["machine"]) == (elfclass, little, machine)
        assert fast.defined == ref["defined"] and fast.undefined == ref["undefined"]
        assert fast.weak_undefined == ref["weak"]
        assert list(fast.needed) == ref["needed"] and list(fast.runpath) == ref["runpath"] == ["/opt/one", "/opt/two"]
        assert "libm.so.6" in fast.needed
        assert fast.soname == ref["soname"] == "mod.so"
        # the record header, unpacked here in the file's own byte order
        magic, abi, size, flags, text_size = ref["header"]
        assert magic == b"ASTMODI\0" and (fast.abi_version, fast.struct_size) == (abi, size) == (1, size)
        # the target's sizeof(struct ast_module_info), written into the record by its own compiler
        assert size == struct_size(elfclass)
        assert fast.record.fields == ref["fields"] and fast.record.machine == machine
        assert fast.record == read_record(str(path))
        assert fast.record.name == name and fast.record.flags == flags
    assert "res_a_api" in read_binary(str(built["res_a"])).defined
    assert "res_a_hidden" not in read_binary(str(built["res_a"])).defined
    b = read_binary(str(built["res_b"]))
    assert "res_a_api" in b.undefined and "res_b_maybe" in b.weak_undefined
    assert b.record.list("requires") == ("res_a",)


# ------------------------------------------------------------------ the fast reader on damaged and unusual files

def _section_header(path, name):
    """(offset of the section's header in the file, ELF class, byte order) found with pyelftools."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        index = next(i for i, s in enumerate(elf.iter_sections()) if s.name == name)
        return elf["e_shoff"] + index * elf["e_shentsize"], elf.elfclass, "<" if elf.little_endian else ">"


def _patched(tmp_path, cc, edits) -> Path:
    """A copy of res_b built by ``cc`` with ``edits`` applied: (offset, struct format, value)."""
    path = tmp_path / f"{cc}-res_b.so"
    shutil.copy2(built_with(cc)["res_b"], path)
    data = bytearray(path.read_bytes())
    for offset, fmt, value in edits:
        struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))
    return path


def _same_reading(a, b):
    def view(x):
        return (x.record.fields, x.record.flags, x.record.struct_size, x.machine, x.defined, x.undefined,
                x.weak_undefined, x.needed, x.runpath, x.soname)
    return view(a) == view(b)


def test_small_helpers_of_the_fast_reader():
    from buildtool.elfinfo import _cstr
    assert _cstr(b"ab\0cd\0", 0) == "ab" and _cstr(b"ab\0cd\0", 3) == "cd"
    assert _cstr(b"\0abc", 0) == "" and _cstr(b"abc", 0) == "abc" and _cstr(b"abc", 1) == "bc"
    assert _cstr(b"caf\xe9\0", 0) == "caf\ufffd"


@pytest.mark.parametrize("data, message", [
    (b"", "not an ELF file"),
    (b"hello world, this is a text file and long enough to pass the size check", "not an ELF file"),
    (b"\x7fELF" + b"\1\1\1" + b"\0" * 30,                                              # under a header's size
     "the ELF header (offset 0x0, 52 bytes) lies outside the file (37 bytes): truncated or corrupt"),
    (b"\x7fELF" + b"\3\1\1" + b"\0" * 60, "unknown ELF class or byte order"),
    (b"\x7fELF" + b"\1\3\1" + b"\0" * 60, "unknown ELF class or byte order"),
    (b"\x7fELF" + b"\1\1\1" + b"\0" * 45, "no section headers"),                   # exactly 52 bytes, e_shoff 0
])
def test_fast_reader_refuses_what_is_not_a_module(tmp_path, data, message):
    path = tmp_path / "x.so"
    path.write_bytes(data)
    with pytest.raises(RecordError) as info:
        read_binary(str(path))
    assert str(info.value) == f"{path}: {message}"


def test_fast_reader_io_and_structure_errors(tmp_path):
    with pytest.raises(RecordError) as info:
        read_binary(str(tmp_path / "missing.so"))
    assert str(info.value) == f"{tmp_path / 'missing.so'}: cannot read: No such file or directory"
    # section headers said to lie past the end of the file
    path = _patched(tmp_path, "gcc", [(0x28, "<Q", 1 << 40)])
    with pytest.raises(RecordError) as info:
        read_binary(str(path))
    assert str(info.value) == (f"{path}: the first section header (offset 0x10000000000, 64 bytes) lies outside "
                               f"the file ({path.stat().st_size} bytes): truncated or corrupt")


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
def test_unknown_machine_and_path(tmp_path, cc):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    path = _patched(tmp_path, cc, [(18, "<H", 0xBEEF)])
    fast = read_binary(str(path))
    assert fast.machine == "EM_48879" and fast.path == str(path)


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
def test_extended_section_numbering(tmp_path, cc):
    # e_shnum = 0 and e_shstrndx = SHN_XINDEX: the real values are in section header 0 (sh_size, sh_link),
    # as in objects with 65,280 sections or more
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    original = built_with(cc)["res_b"]
    from elftools.elf.elffile import ELFFile
    with open(original, "rb") as stream:
        elf = ELFFile(stream)
        shoff, shnum, shstrndx = elf["e_shoff"], elf["e_shnum"], elf["e_shstrndx"]
        is64 = elf.elfclass == 64
    order = "<"
    if is64:
        edits = [(60, order + "H", 0), (62, order + "H", 0xFFFF), (shoff + 32, order + "Q", shnum),
                 (shoff + 40, order + "I", shstrndx)]
    else:
        edits = [(48, order + "H", 0), (50, order + "H", 0xFFFF), (shoff + 20, order + "I", shnum),
                 (shoff + 24, order + "I", shstrndx)]
    path = _patched(tmp_path, cc, edits)
    assert _same_reading(read_binary(str(path)), read_binary(str(original)))
    assert read_binary(str(path)).record.name == "res_b"


def test_record_section_damage_is_reported_not_raised(tmp_path):
    at, _, order = _section_header(built_with("gcc")["res_b"], ".ast_modinfo")
    size_at = at + 32   # sh_size in an Elf64_Shdr
    short = read_binary(str(_patched(tmp_path, "gcc", [(size_at, "<Q", 20)])))
    assert short.record is None and short.abi_version is None
    assert short.record_error == "section .ast_modinfo does not start with the module record magic"
    header_only = read_binary(str(_patched(tmp_path, "gcc", [(size_at, "<Q", 24)])))
    assert (header_only.abi_version, header_only.record_error) == (1, "module record text is truncated")
    # a section of type SHT_NULL is no section, whatever its name
    nulled = read_binary(str(_patched(tmp_path, "gcc", [(at + 4, "<I", 0)])))
    assert nulled.record is None
    assert nulled.record_error == "no .ast_modinfo section: not built with buildtool's module.h"


def test_record_header_values_in_the_fast_reader(tmp_path):
    data = built_with("gcc")["res_b"].read_bytes()
    magic_at = data.index(b"ASTMODI\0")
    other = read_binary(str(_patched(tmp_path, "gcc", [(magic_at + 8, "<I", 7)])))
    assert other.record is None and other.abi_version == 7
    assert other.record_error == "module record ABI version 7, this buildtool reads 1"
    big = read_binary(str(_patched(tmp_path, "gcc", [(magic_at + 12, "<I", 0x80000000)])))
    assert big.struct_size == 0x80000000


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
def test_symbol_entry_size_zero_falls_back_to_the_class_size(tmp_path, cc):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    original = built_with(cc)["res_b"]
    at, elfclass, order = _section_header(original, ".dynsym")
    entsize_at = at + (56 if elfclass == 64 else 36)
    patched = _patched(tmp_path, cc, [(entsize_at, order + ("Q" if elfclass == 64 else "I"), 0)])
    assert _same_reading(read_binary(str(patched)), read_binary(str(original)))


@needs_cc
def test_object_file_without_dynamic_sections(tmp_path):
    # a relocatable object (gcc -c) has the record but no .dynsym or .dynamic
    from buildtool.generate import HeaderGenerator, cflags
    from buildtool.scan import scan
    src = write_sources(tmp_path / "src", {"res_a": module_source()})
    module = scan([str(src)]).modules["res_a"]
    HeaderGenerator().write(module, (src / "res_a.c").read_bytes(), tmp_path / "gen")
    obj = tmp_path / "res_a.o"
    import subprocess
    done = subprocess.run(["gcc", "-c", "-fPIC", *cflags(module, tmp_path / "gen", [str(Path(__file__).parent.parent
                                                                                         / "include")]),
                           str(src / "res_a.c"), "-o", str(obj)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fast = read_binary(str(obj))
    assert fast.record == read_record(str(obj)) and fast.record.name == "res_a"
    assert (fast.defined, fast.undefined, fast.needed, fast.soname) == (frozenset(), frozenset(), (), None)


def _dynsym_entry(path, name):
    """(offset of the .dynsym entry of ``name``, ELF class, byte order), found with pyelftools."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        dynsym = elf.get_section_by_name(".dynsym")
        index = next(i for i, sym in enumerate(dynsym.iter_symbols()) if sym.name == name)
        return (dynsym["sh_offset"] + index * dynsym["sh_entsize"], elf.elfclass,
                "<" if elf.little_endian else ">")


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
@pytest.mark.parametrize("change, defined", [
    ("unique", True),      # STB_GNU_UNIQUE (10): still a definition
    ("local", False),      # STB_LOCAL: not exported
    ("file", False),       # STT_FILE: not a symbol of the program
    ("hidden", False),     # STV_HIDDEN: not visible outside
    ("value0", True),      # defined at address 0: the section index says defined, not the value
])
def test_symbol_table_entries_are_classified_like_the_elf_spec_says(tmp_path, cc, change, defined):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    original = built_with(cc)["res_a"]
    at, elfclass, order = _dynsym_entry(original, "res_a_api")
    info_at, other_at, value_fmt, value_at = ((at + 4, at + 5, "Q", at + 8) if elfclass == 64
                                              else (at + 12, at + 13, "I", at + 4))
    info = original.read_bytes()[info_at]
    edits = {"unique": [(info_at, "B", (10 << 4) | (info & 0xF))], "local": [(info_at, "B", info & 0xF)],
             "file": [(info_at, "B", (info & 0xF0) | 4)], "hidden": [(other_at, "B", 2)],
             "value0": [(value_at, order + value_fmt, 0)]}[change]
    path = tmp_path / "res_a.so"
    data = bytearray(original.read_bytes())
    for offset, fmt, value in edits:
        struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))
    fast, before = read_binary(str(path)), read_binary(str(original))
    assert ("res_a_api" in fast.defined) is defined
    assert fast.defined - {"res_a_api"} == before.defined - {"res_a_api"}
    assert (fast.undefined, fast.weak_undefined) == (before.undefined, before.weak_undefined)
    if change in ("unique", "hidden", "file", "local"):  # pyelftools, the second reader, agrees
        assert ("res_a_api" in _pyelftools_view(path)["defined"]) is defined


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
def test_symbol_without_a_name_is_skipped_not_the_end(tmp_path, cc):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    original = built_with(cc)["res_b"]
    from elftools.elf.elffile import ELFFile
    with open(original, "rb") as stream:
        elf = ELFFile(stream)
        dynsym = elf.get_section_by_name(".dynsym")
        symbols = list(dynsym.iter_symbols())
        first = next(i for i, sym in enumerate(symbols) if i and sym["st_info"]["bind"] != "STB_LOCAL")
        at = dynsym["sh_offset"] + first * dynsym["sh_entsize"]
        order = "<" if elf.little_endian else ">"
    path = tmp_path / "res_b.so"
    data = bytearray(original.read_bytes())
    struct.pack_into(order + "I", data, at, 0)   # st_name = 0: the empty name
    path.write_bytes(bytes(data))
    fast, before = read_binary(str(path)), read_binary(str(original))
    gone = symbols[first].name
    assert fast.defined | fast.undefined | fast.weak_undefined == (
        before.defined | before.undefined | before.weak_undefined) - {gone}
    assert len(symbols) - first > 3  # symbols after the nameless one were read


# ------------------------------------------------------------------ each refusal of a damaged file, in full
# Offsets of the fields patched, from the ELF specification's structures (Elf64_Ehdr/Elf32_Ehdr, Elf64_Shdr/
# Elf32_Shdr): (offset in the header, struct format letter) by ELF class.
EHDR = {64: {"e_shentsize": (58, "H"), "e_shnum": (60, "H"), "e_shstrndx": (62, "H")},
        32: {"e_shentsize": (46, "H"), "e_shnum": (48, "H"), "e_shstrndx": (50, "H")}}
SHDR = {64: {"sh_offset": (24, "Q"), "sh_size": (32, "Q"), "sh_link": (40, "I"), "sh_entsize": (56, "Q")},
        32: {"sh_offset": (16, "I"), "sh_size": (20, "I"), "sh_link": (24, "I"), "sh_entsize": (36, "I")}}


def _layout(path):
    """(ELF class, byte order, number of sections, section name -> (its header's offset, sh_offset, sh_size)),
    read with pyelftools."""
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        sections = {s.name: (elf["e_shoff"] + i * elf["e_shentsize"], s["sh_offset"], s["sh_size"])
                    for i, s in enumerate(elf.iter_sections())}
        return elf.elfclass, "<" if elf.little_endian else ">", elf["e_shnum"], sections


def _damaged(tmp_path, cc, name, edits):
    """res_b built by ``cc`` with ``edits`` ((section name or None for the ELF header, field, value)) applied,
    and the message read_binary must give for it (``{path}: `` prefixed by the caller)."""
    original = built_with(cc)["res_b"]
    elfclass, order, _, sections = _layout(original)
    changes = []
    for section, fieldname, value in edits:
        if section is None:
            at, letter = EHDR[elfclass][fieldname]
        else:
            offset, letter = SHDR[elfclass][fieldname]
            at = sections[section][0] + offset
        changes.append((at, order + letter, value))
    path = tmp_path / f"{name}.so"
    data = bytearray(original.read_bytes())
    for at, fmt, value in changes:
        struct.pack_into(fmt, data, at, value)
    path.write_bytes(bytes(data))
    return path


def _refusal(path) -> str:
    with pytest.raises(RecordError) as info:
        read_binary(str(path))
    prefix = f"{path}: "
    assert str(info.value).startswith(prefix) and info.value.path == str(path)
    return str(info.value)[len(prefix):]


def _outside(what, offset, length, path) -> str:
    return (f"{what} (offset {offset:#x}, {length} bytes) lies outside the file ({path.stat().st_size} bytes): "
            "truncated or corrupt")


@pytest.mark.parametrize("data, message", [
    (b"\x7fELF", "unknown ELF class or byte order"),                 # no class byte at all
    (b"\x7fELF\x02", "unknown ELF class or byte order"),             # a class but no byte order
    (b"\x7fELF\x01\x01", "the ELF header (offset 0x0, 52 bytes) lies outside the file (6 bytes): truncated or corrupt"),
    (b"\x7fELF\x02\x01\x01" + b"\0" * 53,                           # 60 bytes: an ELF32 header's size, not ELF64's
     "the ELF header (offset 0x0, 64 bytes) lies outside the file (60 bytes): truncated or corrupt"),
])
def test_the_shortest_files_starting_like_elf(tmp_path, data, message):
    path = tmp_path / "x.so"
    path.write_bytes(data)
    assert _refusal(path) == message


@pytest.mark.parametrize("cc, elfclass", [("gcc", 64), ("i686-linux-gnu-gcc", 32)])
def test_damaged_section_headers_are_refused_by_name(tmp_path, cc, elfclass):
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    _, _, shnum, sections = _layout(built_with(cc)["res_b"])
    header_size = {64: 64, 32: 40}[elfclass]
    path = _damaged(tmp_path, cc, "shentsize", [(None, "e_shentsize", 10)])
    assert _refusal(path) == (f"section header size e_shentsize=10 is smaller than an ELF{elfclass} section header "
                              f"({header_size} bytes): corrupt")
    path = _damaged(tmp_path, cc, "shstrndx", [(None, "e_shstrndx", shnum)])
    assert _refusal(path) == f"section name table index e_shstrndx={shnum} is not a section (there are {shnum}): corrupt"
    path = _damaged(tmp_path, cc, "shnum", [(None, "e_shnum", 5000)])
    from elftools.elf.elffile import ELFFile
    with open(path, "rb") as stream:
        shoff = ELFFile(stream)["e_shoff"]
    assert _refusal(path) == _outside("the section header table (5000 entries)", shoff, 5000 * header_size, path)
    # a string table link to a section that does not exist (exactly one past the last)
    for section in (".dynsym", ".dynamic"):
        path = _damaged(tmp_path, cc, "link", [(section, "sh_link", shnum)])
        assert _refusal(path) == f"{section} links to section {shnum}, which does not exist: corrupt"
    # a section placed past the end of the file, named in the refusal: an offset with the top bit set too,
    # which a signed reading would take for a negative one
    far = 1 << (elfclass - 1)
    for section, what in [(".shstrtab", "the section name table"), (".ast_modinfo", "section .ast_modinfo"),
                          (".dynsym", ".dynsym"), (".dynamic", ".dynamic"), (".dynstr", ".dynsym's string table")]:
        for offset in (0x7000000, far):
            path = _damaged(tmp_path, cc, "far", [(section, "sh_offset", offset)])
            assert _refusal(path) == _outside(what, offset, sections[section][2], path)
    path = _damaged(tmp_path, cc, "entsize", [(".dynsym", "sh_entsize", 8)])
    assert _refusal(path) == ".dynsym entry size 8 is smaller than a symbol: corrupt"
    # read_record reads no symbols, so a damaged symbol table does not hide the record
    assert read_record(str(path)).name == "res_b" and read_record(str(path)).path == str(path)


def test_an_empty_record_section_is_no_record_not_outside_the_file(tmp_path):
    path = _damaged(tmp_path, "gcc", "empty", [(".ast_modinfo", "sh_size", 0)])
    found = read_binary(str(path))
    assert found.record is None and found.record_error == (
        "section .ast_modinfo does not start with the module record magic")
    assert "res_a_api" in found.undefined


def test_the_record_names_its_file_and_other_abi_versions_say_what_to_do(tmp_path):
    path = built_with("gcc")["res_b"]
    assert read_binary(str(path)).record.path == str(path)
    data = path.read_bytes()
    assert read_binary_data(str(path), data) == read_binary(str(path))  # symbols are read by default
    assert "res_a_api" in read_binary_data(str(path), data).undefined
    magic_at = data.index(b"ASTMODI\0")
    other = _patched(tmp_path, "gcc", [(magic_at + 8, "<I", 7)])
    with pytest.raises(RecordError) as info:
        read_record(str(other))
    assert str(info.value) == (f"{other}: module record ABI version 7, this buildtool reads 1; "
                               "rebuild the module against this module.h")
    assert info.value.path == str(other)
    # our ABI version, but the text cut: nothing to rebuild against, so no such advice
    at, _, _ = _section_header(path, ".ast_modinfo")
    header_only = _patched(tmp_path, "gcc", [(at + 32, "<Q", 24)])
    with pytest.raises(RecordError) as info:
        read_record(str(header_only))
    assert str(info.value) == f"{header_only}: module record text is truncated"
    with pytest.raises(RecordError) as info:
        parse_record("m.so", record(magic=b"ASTMODX\0"), True, "EM_X")
    assert str(info.value) == "m.so: section .ast_modinfo does not start with the module record magic"


def test_the_reserved_symbol_zero_is_never_read(tmp_path):
    # index 0 of a symbol table is reserved (the ELF specification): even made into a named global definition
    # (a copy of the entry of `use`), it is not one of the module's symbols
    original = built_with("gcc")["res_b"]
    from elftools.elf.elffile import ELFFile
    with open(original, "rb") as stream:
        dynsym = ELFFile(stream).get_section_by_name(".dynsym")
        entry = dynsym["sh_offset"]
        named = next(i for i, s in enumerate(dynsym.iter_symbols()) if s.name == "use")
    data = bytearray(original.read_bytes())
    at = entry + named * 24
    data[entry:entry + 24] = data[at:at + 24]  # Elf64_Sym: 24 bytes; `use` is a defined global function
    struct.pack_into("<I", data, at, 0)         # and `use` itself loses its name
    path = tmp_path / "res_b.so"
    path.write_bytes(bytes(data))
    assert "use" not in read_binary(str(path)).defined
    assert "use" in read_binary(str(original)).defined


def test_dynamic_entries_are_read_up_to_the_section_end_exactly(tmp_path):
    original = built_with("gcc")["res_b"]
    from elftools.elf.elffile import ELFFile
    with open(original, "rb") as stream:
        tags = [t.entry.d_tag for t in ELFFile(stream).get_section_by_name(".dynamic").iter_tags()]
    soname_end = (tags.index("DT_SONAME") + 1) * 16   # Elf64_Dyn: 16 bytes
    whole = read_binary(str(_damaged(tmp_path, "gcc", "whole", [(".dynamic", "sh_size", soname_end)])))
    assert whole.soname == "mod.so"
    cut = read_binary(str(_damaged(tmp_path, "gcc", "cut", [(".dynamic", "sh_size", soname_end - 1)])))
    assert cut.soname is None  # its last entry lies one byte past the section's end
    assert (cut.needed, cut.runpath) == (whole.needed, whole.runpath)


def test_flags_are_named_and_unknown_bits_shown():
    from buildtool.elfinfo import describe_flags, flag_names
    assert describe_flags(0) == "0x0 (DEFAULT)"
    assert describe_flags(3) == "0x3 (GLOBAL_SYMBOLS|LOAD_ORDER)"
    assert describe_flags(0x14) == "0x14 (0x14)"
    assert flag_names(0x5) == ["GLOBAL_SYMBOLS", "0x4"]


def test_boolean_record_fields_in_json():
    text = b"name=res_a\0default_enabled=yes\0"
    assert parse_record("m.so", record(text=text), True, "EM_X").to_json()["default_enabled"] is True
    text = b"name=res_a\0default_enabled=no\0"
    assert parse_record("m.so", record(text=text), True, "EM_X").to_json()["default_enabled"] is False


@pytest.mark.parametrize("cc", ["gcc", "i686-linux-gnu-gcc"])
def test_a_string_offset_past_the_string_table_is_an_empty_name(tmp_path, cc):
    # d_val is unsigned: an offset just under 2^64 (2^32) is past the end, not 2 bytes before it
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed (Debian: {CROSS_PACKAGES.get(cc, 'gcc')})")
    original = built_with(cc)["res_b"]
    from elftools.elf.elffile import ELFFile
    with open(original, "rb") as stream:
        elf = ELFFile(stream)
        dynamic = elf.get_section_by_name(".dynamic")
        tags = [t.entry.d_tag for t in dynamic.iter_tags()]
        step, letter = (16, "Q") if elf.elfclass == 64 else (8, "I")
        at = dynamic["sh_offset"] + tags.index("DT_SONAME") * step + step // 2
        order = "<" if elf.little_endian else ">"
    path = tmp_path / "res_b.so"
    data = bytearray(original.read_bytes())
    struct.pack_into(order + letter, data, at, (1 << (step * 4)) - 2)
    path.write_bytes(bytes(data))
    assert read_binary(str(path)).soname == "" and read_binary(str(original)).soname == "mod.so"
