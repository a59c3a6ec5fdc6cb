"""Every finding code ``buildtool check`` reports beyond the scanner's, with its severity and meaning.

docs/check.md has the same table for people; SARIF takes its rule
descriptions from here. A code never changes meaning; a message may be reworded.
"""

from __future__ import annotations

from buildtool.diagnostics import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTE

CODES: dict[str, tuple[Severity, str]] = {
    # graph (sources)
    "conflict": (E, "two modules that would both be built conflict with each other"),
    "requires-deprecated": (W, "a module requires a deprecated module"),
    "requires-removed": (E, "a module requires a module that is removed (has <removed_in>)"),
    "support-level-policy": (W, "a module requires a module of a weaker support level (core requiring extended, ...)"),
    "library-unavailable": (E, "out of tree (--installed): a library the module requires is known neither to the catalogue nor to pkg-config, so the module cannot be built here"),
    # binaries
    "binary-missing": (E, "a module of the tree has no built binary and was not disabled"),
    "binary-disabled": (N, "a module has no binary because it was disabled (reason given)"),
    "binary-stale": (E, "a binary was built from another version of its source (source hash differs)"),
    "binary-metadata": (E, "a binary's metadata differs from what its unchanged source declares (hand-edited or built with other data)"),
    "binary-foreign": (E, "a binary named after a module is not that module's build (other name, no record)"),
    "binary-unknown": (W, "a module binary whose module is not in the scanned tree"),
    "binary-duplicate": (W, "two binaries for one module"),
    "binary-unreadable": (E, "a file in the binaries directory is not a readable ELF module"),
    "abi-version": (E, "the binary's module record has another ABI version than this module.h"),
    "struct-size": (E, "the binary's info struct size does not match module.h for its target"),
    # symbols
    "undeclared-dependency": (E, "a module uses symbols another module defines but does not require it"),
    "optional-module-symbol": (W, "a module needs (strongly) a symbol of a module it only uses optionally"),
    "undeclared-library": (W, "a module uses symbols of a shared library its MODULEINFO does not name"),
    "unresolved-symbol": (E, "an undefined symbol no required module, declared library or the core defines"),
    "unused-dependency": (N, "a module requires a module from which it uses no symbol"),
    "library-not-found": (N, "a DT_NEEDED library could not be found to read its symbols"),
    # hand-written lists
    "hand-written-drift": (E, "a hand-written .requires/.optional_modules/.enhances differs from MODULEINFO"),
    "hand-written-builtin": (E, "a hand-written list names a core built-in that MODULEINFO does not declare"),
    "hand-written-conditional": (N, "a hand-written list sits under a preprocessor conditional (kept, not compared)"),
    "hand-written-unreadable": (W, "a hand-written list is not a string literal and cannot be compared"),
    # xmldoc
    "xmldoc-missing": (E, "a module has no <module> element in the xmldoc document"),
    "xmldoc-stale": (E, "a <module> element's data differs from the module's source"),
    "xmldoc-hash-mismatch": (E, "a binary's embedded source hash differs from the xmldoc document's"),
    "xmldoc-unknown": (W, "the xmldoc document has a <module> for a module not in the tree"),
    "xmldoc-invalid": (E, "the xmldoc document (or a DOCUMENTATION block) is not well-formed or is refused"),
}

# The scanner's codes (README.md, "Diagnostic codes"), for SARIF rule texts.
SCANNER_CODES: dict[str, str] = {
    "io-error": "a path cannot be read",
    "block-missing": "a source has no MODULEINFO block",
    "block-empty": "a MODULEINFO block is empty",
    "block-unterminated": "a MODULEINFO block is not closed",
    "block-duplicate": "a source has two MODULEINFO blocks",
    "block-encoding": "a MODULEINFO block is not UTF-8",
    "xml-syntax": "MODULEINFO is not well-formed XML",
    "xml-dtd": "MODULEINFO holds a DTD or entity declaration",
    "stray-text": "text outside any MODULEINFO tag",
    "unknown-tag": "an unknown MODULEINFO tag",
    "unknown-attribute": "an unknown attribute on a MODULEINFO tag",
    "empty-value": "an empty MODULEINFO tag",
    "bad-name": "an invalid name in a MODULEINFO tag",
    "bad-value": "an invalid value in a MODULEINFO tag",
    "duplicate-tag": "a scalar MODULEINFO tag given twice",
    "duplicate-module": "two sources with one module name",
    "unknown-name": "a name that is no module, built-in, library, option or interface",
    "missing-module": "a required module that is not in the tree",
    "self-dependency": "a module that names itself",
    "dependency-cycle": "a cycle among required dependencies",
    "platform-dependency": "a platform named outside <conflict>",
}


def describe(code: str) -> str:
    if code in CODES:
        return CODES[code][1]
    return SCANNER_CODES.get(code, code)
