"""Read a built module without loading it: its ``.ast_modinfo`` record and its dynamic symbols.

The record lives in the ELF section ``.ast_modinfo`` (see include/asterisk/module.h):
a header (magic, ABI version, struct size, flags, text size, in the target's byte
order) and NUL-separated ``key=value`` text. ``read_binary`` reads it with
``struct`` over the file's bytes, with what ``check`` and the loader's planning
need besides (``.dynsym`` with its string table, ``.dynamic``), for 32/64-bit and
either byte order (any architecture): the ELF header, the section headers and
those sections, every offset checked against the file's size. No code of the
module is run or mapped. ``read_record`` is the record alone (``buildtool
inspect``). pyelftools, a second and independent ELF reader, is the tests'
oracle (tests/test_records.py) and is never imported at run time.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from buildtool.errors import RecordError
from buildtool.fields import RECORD_BOOLEANS, RECORD_LISTS
from buildtool.fsutil import read_regular
from buildtool.model import ABI_VERSION  # defined once, there: the generator writes it

SECTION = ".ast_modinfo"
MAGIC = b"ASTMODI\0"
HEADER_SIZE = 24
# enum ast_module_flags of include/asterisk/module.h (the loader's abi.py takes its bits from here).
FLAG_NAMES = {1 << 0: "GLOBAL_SYMBOLS", 1 << 1: "LOAD_ORDER"}
# Record keys whose "yes"/"no" is a boolean in JSON (as in the tree's JSON), and the lists.
BOOLEAN_KEYS = RECORD_BOOLEANS
LIST_KEYS = RECORD_LISTS

# e_machine -> its name without "EM_", as the ELF specification (and pyelftools) names it.
_MACHINE_NAMES = """
0:NONE 1:M32 2:SPARC 3:386 4:68K 5:88K 6:IAMCU 7:860 8:MIPS 9:S370 10:MIPS_RS3_LE 15:PARISC
17:VPP500 18:SPARC32PLUS 19:960 20:PPC 21:PPC64 22:S390 23:SPU 36:V800 37:FR20 38:RH32 39:RCE 40:ARM
41:ALPHA 42:SH 43:SPARCV9 44:TRICORE 45:ARC 46:H8_300 47:H8_300H 48:H8S 49:H8_500 50:IA_64 51:MIPS_X
52:COLDFIRE 53:68HC12 54:MMA 55:PCP 56:NCPU 57:NDR1 58:STARCORE 59:ME16 60:ST100 61:TINYJ 62:X86_64
63:PDSP 64:PDP10 65:PDP11 66:FX66 67:ST9PLUS 68:ST7 69:68HC16 70:68HC11 71:68HC08 72:68HC05 73:SVX
74:ST19 75:VAX 76:CRIS 77:JAVELIN 78:FIREPATH 79:ZSP 80:MMIX 81:HUANY 82:PRISM 83:AVR 84:FR30
85:D10V 86:D30V 87:V850 88:M32R 89:MN10300 90:MN10200 91:PJ 92:OPENRISC 93:ARC_COMPACT 94:XTENSA
95:VIDEOCORE 96:TMM_GPP 97:NS32K 98:TPC 99:SNP1K 100:ST200 101:IP2K 102:MAX 103:CR 104:F2MC16
105:MSP430 106:BLACKFIN 107:SE_C33 108:SEP 109:ARCA 110:UNICORE 111:EXCESS 112:DXP 113:ALTERA_NIOS2
114:CRX 115:XGATE 116:C166 117:M16C 118:DSPIC30F 119:CE 120:M32C 131:TSK3000 132:RS08 133:SHARC
134:ECOG2 135:SCORE7 136:DSP24 137:VIDEOCORE3 138:LATTICEMICO32 139:SE_C17 140:TI_C6000 141:TI_C2000
142:TI_C5500 143:TI_ARP32 144:TI_PRU 160:MMDSP_PLUS 161:CYPRESS_M8C 162:R32C 163:TRIMEDIA 164:QDSP6
165:8051 166:STXP7X 167:NDS32 168:ECOG1X 169:MAXQ30 170:XIMO16 171:MANIK 172:CRAYNV2 173:RX
174:METAG 175:MCST_ELBRUS 176:ECOG16 177:CR16 178:ETPU 179:SLE9X 180:L10M 181:K10M 183:AARCH64
185:AVR32 186:STM8 187:TILE64 188:TILEPRO 189:MICROBLAZE 190:CUDA 191:TILEGX 192:CLOUDSHIELD
193:COREA_1ST 194:COREA_2ND 195:ARC_COMPACT2 196:OPEN8 197:RL78 198:VIDEOCORE5 199:78KOR 200:56800EX
201:BA1 202:BA2 203:XCORE 204:MCHP_PIC 205:INTEL205 206:INTEL206 207:INTEL207 208:INTEL208
209:INTEL209 210:KM32 211:KMX32 212:KMX16 213:KMX8 214:KVARC 215:CDP 216:COGE 217:COOL 218:NORC
219:CSR_KALIMBA 220:Z80 221:VISIUM 222:FT32 223:MOXIE 224:AMDGPU 243:RISCV 247:BPF 252:CSKY
258:LOONGARCH 21569:FRV
"""
MACHINES = {int(number): "EM_" + name for number, name in (item.split(":") for item in _MACHINE_NAMES.split())}

SHT_DYNAMIC, SHT_DYNSYM = 6, 11
DT_NULL, DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 14, 15, 29
STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 1, 2, 10
STT_SECTION, STT_FILE = 3, 4
STV_DEFAULT, STV_PROTECTED = 0, 3
SHN_UNDEF, SHN_XINDEX = 0, 0xFFFF


def flag_names(flags: int) -> list[str]:
    """The AST_MODFLAG_* names set in ``flags`` (an unknown bit as its hex value)."""
    names = [name for bit, name in sorted(FLAG_NAMES.items()) if flags & bit]
    rest = flags & ~sum(FLAG_NAMES)
    return names + ([f"{rest:#x}"] if rest else [])


def describe_flags(flags: int) -> str:
    """``0x3 (GLOBAL_SYMBOLS|LOAD_ORDER)``; ``0x0 (DEFAULT)``."""
    return f"{flags:#x} ({'|'.join(flag_names(flags)) or 'DEFAULT'})"


REBUILD = "rebuild the module against this module.h"


def abi_problem(abi_version: int) -> str | None:
    """Why a record (or struct) of this layout version cannot be read (None: it can): the one version
    check, of the record here and of the struct in ``buildtool.loader.abi.layout_mismatch``."""
    if abi_version != ABI_VERSION:
        return f"module record ABI version {abi_version}, this buildtool reads {ABI_VERSION}"
    return None


@dataclass(frozen=True)
class ModuleRecord:
    path: str
    machine: str
    abi_version: int
    struct_size: int
    flags: int
    fields: dict[str, str]

    @property
    def name(self) -> str:
        return self.fields.get("name", "")

    def list(self, key: str) -> tuple[str, ...]:
        value = self.fields.get(key, "")
        return tuple(v for v in value.split(",") if v)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "machine": self.machine,
            "abi_version": self.abi_version,
            "struct_size": self.struct_size,
            "flags": self.flags,
            "flag_names": flag_names(self.flags),
        }
        for key, value in sorted(self.fields.items()):
            if key in LIST_KEYS:
                out[key] = list(self.list(key))
            elif key in BOOLEAN_KEYS:
                out[key] = value == "yes"
            else:
                out[key] = value or None
        return out


def parse_record(path: str, data: bytes, little_endian: bool, machine: str) -> ModuleRecord:
    """The record in ``data``, the bytes of the ``.ast_modinfo`` section; ``RecordError`` when damaged."""
    if len(data) < HEADER_SIZE or data[:8] != MAGIC:
        raise RecordError(path, f"section {SECTION} does not start with the module record magic")
    order = "<" if little_endian else ">"
    abi_version, struct_size, flags, text_size = struct.unpack_from(order + "IIII", data, 8)
    problem = abi_problem(abi_version)
    if problem:
        raise RecordError(path, f"{problem}; {REBUILD}")
    text = data[HEADER_SIZE:HEADER_SIZE + text_size]
    if len(text) != text_size or not text.endswith(b"\0"):
        raise RecordError(path, "module record text is truncated")
    fields: dict[str, str] = {}
    for item in text.rstrip(b"\0").split(b"\0"):
        if not item:
            continue
        key, sep, value = item.decode("utf-8", "replace").partition("=")
        if not sep:
            raise RecordError(path, f"malformed module record entry {item[:40]!r}")
        fields[key] = value
    return ModuleRecord(path, machine, abi_version, struct_size, flags, fields)


def read_record(path: str) -> ModuleRecord:
    """The record, or ``RecordError`` naming the file and what is wrong (never another exception)."""
    found = read_binary(path, symbols=False)
    if found.record is None:
        remedy = f"; {REBUILD}" if found.abi_version is not None and abi_problem(found.abi_version) else ""
        raise RecordError(path, f"{found.record_error}{remedy}")
    return found.record


@dataclass
class Binary:
    path: str
    machine: str
    elfclass: int                      # 32 or 64
    little_endian: bool
    record: ModuleRecord | None = None
    record_error: str | None = None    # why there is no record (no section, truncated, other ABI)
    abi_version: int | None = None     # from the record header, even when it is not ours
    struct_size: int | None = None
    defined: frozenset[str] = frozenset()
    undefined: frozenset[str] = frozenset()       # strong references that must be resolved
    weak_undefined: frozenset[str] = frozenset()  # may stay unresolved
    needed: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    soname: str | None = None


def _cstr(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    return data[offset:end if end >= 0 else len(data)].decode("utf-8", "replace")


def read_binary(path: str, symbols: bool = True) -> Binary:
    """Raises ``RecordError`` when ``path`` is not a readable ELF file (never anything else)."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise RecordError(path, f"cannot read: {exc.strerror or exc}") from None
    return read_binary_data(path, data, symbols)


def read_binary_data(path: str, data: bytes, symbols: bool = True) -> Binary:
    """``read_binary`` over bytes already read."""
    try:
        return _read(path, data, symbols)
    except (struct.error, IndexError, ValueError, OverflowError) as exc:  # a gap in the checks below
        raise RecordError(path, f"not a readable ELF file ({exc})") from None


def _read(path: str, data: bytes, symbols: bool) -> Binary:
    # Every offset, size and count read from the file is checked against the file's size before it
    # is used, so a crafted header can neither send a loop round 2^40 times nor index past the end.
    size = len(data)

    def within(offset: int, length: int, what: str) -> None:
        if offset < 0 or length < 0 or offset + length > size:
            raise RecordError(path, f"{what} (offset {offset:#x}, {length} bytes) lies outside the file "
                              f"({size} bytes): truncated or corrupt")

    if data[:4] != b"\x7fELF":
        raise RecordError(path, "not an ELF file")
    is64 = {1: False, 2: True}.get(data[4]) if size > 4 else None
    order = {1: "<", 2: ">"}.get(data[5]) if size > 5 else None
    if is64 is None or order is None:
        raise RecordError(path, "unknown ELF class or byte order")
    within(0, 64 if is64 else 52, "the ELF header")
    if is64:
        (_, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = struct.unpack_from(
            order + "HHIQQQIHHHHHH", data, 16)
        sh_fmt = order + "IIQQQQIIQQ"
    else:
        (_, machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, shstrndx) = struct.unpack_from(
            order + "HHIIIIIHHHHHH", data, 16)
        sh_fmt = order + "IIIIIIIIII"
    binary = Binary(path, MACHINES.get(machine, f"EM_{machine}"), 64 if is64 else 32, order == "<")
    if shoff == 0:
        raise RecordError(path, "no section headers")
    if shentsize < struct.calcsize(sh_fmt):
        raise RecordError(path, f"section header size e_shentsize={shentsize} is smaller than an ELF"
                          f"{64 if is64 else 32} section header ({struct.calcsize(sh_fmt)} bytes): corrupt")
    within(shoff, shentsize, "the first section header")
    first = struct.unpack_from(sh_fmt, data, shoff)
    if shnum == 0:
        shnum = first[5]  # extended numbering: the count is in section 0's sh_size
    if shstrndx == SHN_XINDEX:
        shstrndx = first[6]
    within(shoff, shnum * shentsize, f"the section header table ({shnum} entries)")
    if shstrndx >= shnum:
        raise RecordError(path, f"section name table index e_shstrndx={shstrndx} is not a section "
                          f"(there are {shnum}): corrupt")
    # (name, type, offset, size, link, entsize)
    sections = []
    for index in range(shnum):
        name, kind, _, _, offset, length, link, _, _, entsize = struct.unpack_from(
            sh_fmt, data, shoff + index * shentsize)
        sections.append((name, kind, offset, length, link, entsize))

    def body(section, what: str) -> bytes:
        within(section[2], section[3], what)
        return data[section[2]:section[2] + section[3]]

    def linked(section, what: str) -> bytes:
        if section[4] >= shnum:
            raise RecordError(path, f"{what} links to section {section[4]}, which does not exist: corrupt")
        return body(sections[section[4]], what + "'s string table")

    names = body(sections[shstrndx], "the section name table")
    record_section = None
    dynsym = dynamic = None
    for section in sections:
        if section[1] == SHT_DYNSYM:
            dynsym = section
        elif section[1] == SHT_DYNAMIC:
            dynamic = section
        elif record_section is None and section[1] != 0 and _cstr(names, section[0]) == SECTION:
            record_section = section
    if record_section is None:
        binary.record_error = f"no {SECTION} section: not built with buildtool's module.h"
    else:
        raw = body(record_section, f"section {SECTION}")
        if len(raw) >= HEADER_SIZE and raw[:8] == MAGIC:
            binary.abi_version, binary.struct_size = struct.unpack_from(order + "II", raw, 8)
        problem = abi_problem(binary.abi_version) if binary.abi_version is not None else None
        if problem:
            binary.record_error = problem
        else:
            try:
                binary.record = parse_record(path, raw, order == "<", binary.machine)
            except RecordError as exc:
                binary.record_error = exc.reason
    if not symbols:
        return binary
    if dynsym is not None:
        fmt = order + ("IBBHQQ" if is64 else "IIIBBH")
        entsize = dynsym[5] or struct.calcsize(fmt)
        if entsize < struct.calcsize(fmt):
            raise RecordError(path, f".dynsym entry size {entsize} is smaller than a symbol: corrupt")
        body(dynsym, ".dynsym")
        strings = linked(dynsym, ".dynsym")
        defined, undefined, weak = set(), set(), set()
        base = dynsym[2]
        for index in range(1, dynsym[3] // entsize):
            fields = struct.unpack_from(fmt, data, base + index * entsize)
            if is64:
                name_off, info, other, shndx = fields[0], fields[1], fields[2], fields[3]
            else:
                name_off, info, other, shndx = fields[0], fields[3], fields[4], fields[5]
            bind, kind = info >> 4, info & 0xF
            if bind not in (STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE) or kind in (STT_SECTION, STT_FILE):
                continue
            name = _cstr(strings, name_off)
            if not name:
                continue
            if shndx == SHN_UNDEF:
                (weak if bind == STB_WEAK else undefined).add(name)
            elif other & 3 in (STV_DEFAULT, STV_PROTECTED):
                defined.add(name)
        binary.defined, binary.undefined, binary.weak_undefined = (
            frozenset(defined), frozenset(undefined), frozenset(weak))
    if dynamic is not None:
        body(dynamic, ".dynamic")
        strings = linked(dynamic, ".dynamic")
        fmt = order + ("qQ" if is64 else "iI")
        step = struct.calcsize(fmt)
        needed, runpath = [], []
        for offset in range(dynamic[2], dynamic[2] + dynamic[3] - step + 1, step):
            tag, value = struct.unpack_from(fmt, data, offset)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                needed.append(_cstr(strings, value))
            elif tag in (DT_RUNPATH, DT_RPATH):
                runpath.extend(p for p in _cstr(strings, value).split(":") if p)
            elif tag == DT_SONAME:
                binary.soname = _cstr(strings, value)
        binary.needed, binary.runpath = tuple(needed), tuple(runpath)
    return binary
