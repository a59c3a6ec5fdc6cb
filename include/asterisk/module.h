/*
 * asterisk/module.h - the module info struct, filled from MODULEINFO.
 *
 * A module's dependency data is written once, in its MODULEINFO block.
 * buildtool generates a per-module header from it; this file pulls that header
 * in (its name comes from -DAST_MODULEINFO_HEADER, see `buildtool cflags`) and
 * the AST_MODULE_INFO macros place the data in two places:
 *
 *   - the exported symbol AST_MODULE_INFO_SYMBOL ("__ast_module_info"), a
 *     struct ast_module_info read by the loader after dlopen(); the struct
 *     sits in its own section, AST_MODULE_INFO_SECTION (".ast_module_info"),
 *     but its pointers need the dynamic loader's relocations, hence also:
 *   - the ELF section AST_MODULE_RECORD_SECTION (".ast_modinfo"), a
 *     pointer-free record (header + NUL-separated key=value text) read by
 *     `buildtool inspect` and `buildtool check` without loading the module,
 *     for any architecture.
 *
 * No constructor runs and no core library is needed: registration is the
 * loader reading the exported symbol.
 */
#ifndef ASTERISK_MODULE_H
#define ASTERISK_MODULE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Layout version of struct ast_module_info and of the section record. Bump on
 * any layout change; loaders refuse other versions and other sizes. */
#define AST_MODULE_INFO_ABI_VERSION 1
#define AST_MODULE_INFO_SYMBOL __ast_module_info
#define AST_MODULE_INFO_SYMBOL_NAME "__ast_module_info"
#define AST_MODULE_RECORD_SECTION ".ast_modinfo"
#define AST_MODULE_INFO_SECTION ".ast_module_info"
#define AST_MODULE_RECORD_MAGIC "ASTMODI"

enum ast_module_load_result {
	AST_MODULE_LOAD_SUCCESS = 0,  /*!< Module loaded and configured */
	AST_MODULE_LOAD_DECLINE = 1,  /*!< Module is not configured */
	AST_MODULE_LOAD_SKIP = 2,     /*!< Module was skipped for some reason (For loader.c use only. Should never be returned by modules) */
	AST_MODULE_LOAD_PRIORITY = 3, /*!< Module is not loaded yet, but is added to priority list */
	AST_MODULE_LOAD_FAILURE = -1, /*!< Module could not be loaded properly */
};

enum ast_module_flags {
	AST_MODFLAG_DEFAULT = 0,
	AST_MODFLAG_GLOBAL_SYMBOLS = (1 << 0),
	AST_MODFLAG_LOAD_ORDER = (1 << 1),
};

enum ast_module_support_level {
	AST_MODULE_SUPPORT_UNKNOWN = 0,
	AST_MODULE_SUPPORT_CORE = 1,
	AST_MODULE_SUPPORT_EXTENDED = 2,
	AST_MODULE_SUPPORT_DEPRECATED = 3,
	AST_MODULE_SUPPORT_EXTERNAL = 4,
};

/* Kept for source compatibility; the graph loader orders by dependencies, not
 * by these numbers. */
enum ast_module_load_priority {
	AST_MODPRI_REALTIME_DEPEND = 10,
	AST_MODPRI_REALTIME_DEPEND2 = 20,
	AST_MODPRI_REALTIME_DRIVER = 30,
	AST_MODPRI_CORE = 40,
	AST_MODPRI_TIMING = 45,
	AST_MODPRI_CHANNEL_DEPEND = 50,
	AST_MODPRI_CHANNEL_DRIVER = 60,
	AST_MODPRI_APP_DEPEND = 70,
	AST_MODPRI_DEVSTATE_PROVIDER = 80,
	AST_MODPRI_DEVSTATE_PLUGIN = 90,
	AST_MODPRI_CDR_DRIVER = 100,
	AST_MODPRI_DEFAULT = 128,
	AST_MODPRI_DEVSTATE_CONSUMER = 150,
};

#define ASTERISK_GPL_KEY \
	"This paragraph is copyright (c) 2006 by Digium, Inc. In order for your module to load, it must return this key via a function called \"key\". Any code which includes this paragraph must be licensed under the GNU General Public License version 2 or later (at your option)."

struct ast_module;
struct ast_module_record;

/* Comma-separated lists are sorted and free of duplicates; "" when empty. */
struct ast_module_info {
	/* First, at fixed offsets, so any loader can check the layout. */
	uint32_t abi_version;  /* AST_MODULE_INFO_ABI_VERSION */
	uint32_t struct_size;  /* sizeof(struct ast_module_info) */

	/* Asterisk's fields, same names and meaning. */
	struct ast_module *self;
	int (*load)(void);
	int (*reload)(void);
	int (*unload)(void);
	const char *name;
	const char *description;
	const char *key;
	unsigned int flags;
	const char *buildopt_sum;
	unsigned char load_pri;
	const char *requires;          /* required modules */
	const char *optional_modules;  /* modules used when present */
	const char *enhances;          /* modules this one adds features to */
	void *reserved1;
	void *reserved2;
	void *reserved3;
	void *reserved4;
	enum ast_module_support_level support_level;

	/* Injected by buildtool; nothing here is written by hand. */
	const char *provides;            /* interfaces provided */
	const char *uses;                /* interfaces required */
	const char *optional_uses;       /* interfaces used when provided */
	const char *libraries;           /* external libraries required */
	const char *optional_libraries;  /* external libraries used when present */
	const char *options;             /* build options required */
	const char *builtins;            /* core built-ins required (cdr, http, ...) */
	const char *conflicts;           /* names this module cannot coexist with */
	const char *source_hash;         /* "sha256:<hex>" of the module's source file */
	const struct ast_module_record *record;  /* the section record, same data */
};

/* The pointer-free record in AST_MODULE_RECORD_SECTION. All integers are in
 * the target's byte order; text is "key=value\0" pairs. */
struct ast_module_record_header {
	char magic[8];          /* AST_MODULE_RECORD_MAGIC */
	uint32_t abi_version;   /* AST_MODULE_INFO_ABI_VERSION */
	uint32_t struct_size;   /* sizeof(struct ast_module_info) on the target */
	uint32_t flags;         /* the AST_MODFLAG_* set */
	uint32_t text_size;     /* bytes of text that follow, final NUL included */
};

#ifndef AST_MODULE
#error "AST_MODULE is not defined: compile modules with the flags from `buildtool cflags` (or the meson build), which define it with the generated data"
#endif

#ifndef AST_MODULEINFO_HEADER
#error "no generated MODULEINFO data for this module: AST_MODULEINFO_HEADER is not defined; compile with the flags from `buildtool cflags SOURCE --tree TREE.json --out-dir DIR` (the meson build does this)"
#endif

#include AST_MODULEINFO_HEADER

#ifndef AST_MODULEINFO_GENERATED
#error "AST_MODULEINFO_HEADER does not name a header generated by buildtool"
#endif

#if AST_MODULEINFO_GENERATED != AST_MODULE_INFO_ABI_VERSION
#error "the generated MODULEINFO header was made for another module.h layout; regenerate it with this buildtool"
#endif

#if defined(__GNUC__) && !defined(__clang__) && !defined(__cplusplus)
_Static_assert(__builtin_strcmp(AST_MODULE, AST_MODULEINFO_MODULE) == 0,
	"the generated MODULEINFO header belongs to another module than AST_MODULE");
#endif

/* As in Asterisk: the module's own info, usable anywhere in the module (for
 * ast_module_info->self and the like) although AST_MODULE_INFO(...), which
 * defines it, comes at the end of the source. */
static const __attribute__((unused)) struct ast_module_info *ast_module_info;

#if defined(__has_attribute)
#if __has_attribute(retain)
#define AST__RETAIN __attribute__((retain))
#endif
#endif
#ifndef AST__RETAIN
#define AST__RETAIN
#endif

#define AST__RECORD_TEXT(desc) \
	"name=" AST_MODULE "\0description=" desc "\0" AST_MODULE_RECORD_TEXT

/*
 * Asterisk's syntax is kept: AST_MODULE_INFO(key, flags, desc, fields...) with
 * designated initializers; the hand-written fields come last, as in Asterisk
 * (a trailing comma stays optional). A hand-written list that disagrees with
 * MODULEINFO never gets this far: the generator turns it into an #error at the
 * line of the hand-written field. One that agrees names the same set, so it
 * is harmless (`buildtool migrate` removes it), hence the pragma. The section
 * record is always the canonical, sorted form.
 *
 * The struct itself is static and exported under AST_MODULE_INFO_SYMBOL as an
 * alias: every module exports that same name, and once one module is promoted
 * to the global scope (GLOBAL_SYMBOLS) a reference through the exported name
 * would bind to that module's struct instead (ELF interposition). The
 * module's own pointer, ast_module_info, uses the static name, so it always
 * binds locally; the loader reads the export with dlsym on the module's own
 * handle.
 */
#define AST_MODULE_INFO(keystr, flags_to_set, desc, fields...) \
	static const struct { \
		struct ast_module_record_header header; \
		char text[sizeof(AST__RECORD_TEXT(desc))]; \
	} __ast_module_record __attribute__((section(AST_MODULE_RECORD_SECTION), used, aligned(8))) AST__RETAIN = { \
		{ AST_MODULE_RECORD_MAGIC, AST_MODULE_INFO_ABI_VERSION, sizeof(struct ast_module_info), \
		  (flags_to_set), sizeof(AST__RECORD_TEXT(desc)) }, \
		AST__RECORD_TEXT(desc) \
	}; \
	_Pragma("GCC diagnostic push") \
	_Pragma("GCC diagnostic ignored \"-Woverride-init\"") \
	static struct ast_module_info __mod_info \
		__attribute__((section(AST_MODULE_INFO_SECTION), used, aligned(8))) AST__RETAIN = { \
		.abi_version = AST_MODULE_INFO_ABI_VERSION, \
		.struct_size = sizeof(struct ast_module_info), \
		.name = AST_MODULE, \
		.flags = (flags_to_set), \
		.description = desc, \
		.key = keystr, \
		.buildopt_sum = "", \
		.load_pri = AST_MODPRI_DEFAULT, \
		.requires = AST_MODULE_REQUIRES, \
		.optional_modules = AST_MODULE_OPTIONAL_MODULES, \
		.enhances = AST_MODULE_ENHANCES, \
		.support_level = AST_MODULE_SUPPORT_LEVEL, \
		.provides = AST_MODULE_PROVIDES, \
		.uses = AST_MODULE_USES, \
		.optional_uses = AST_MODULE_OPTIONAL_USES, \
		.libraries = AST_MODULE_LIBRARIES, \
		.optional_libraries = AST_MODULE_OPTIONAL_LIBRARIES, \
		.options = AST_MODULE_OPTIONS, \
		.builtins = AST_MODULE_BUILTINS, \
		.conflicts = AST_MODULE_CONFLICTS, \
		.source_hash = AST_MODULE_SOURCE_HASH, \
		.record = (const struct ast_module_record *)&__ast_module_record, \
		fields \
	}; \
	_Pragma("GCC diagnostic pop") \
	extern struct ast_module_info AST_MODULE_INFO_SYMBOL \
		__attribute__((alias("__mod_info"), visibility("default"))); \
	static const __attribute__((unused)) struct ast_module_info *ast_module_info = &__mod_info

#define AST_MODULE_INFO_STANDARD(keystr, desc) \
	AST_MODULE_INFO(keystr, AST_MODFLAG_LOAD_ORDER, desc, \
		.load = load_module, \
		.unload = unload_module, \
		.load_pri = AST_MODPRI_DEFAULT, \
	)

/* Same as AST_MODULE_INFO_STANDARD: the support level comes from MODULEINFO. */
#define AST_MODULE_INFO_STANDARD_EXTENDED(keystr, desc) AST_MODULE_INFO_STANDARD(keystr, desc)
#define AST_MODULE_INFO_STANDARD_DEPRECATED(keystr, desc) AST_MODULE_INFO_STANDARD(keystr, desc)

#ifdef __cplusplus
}
#endif

#endif /* ASTERISK_MODULE_H */
