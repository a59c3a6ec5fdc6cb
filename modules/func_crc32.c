/*
 * func_crc32 - CRC32() dialplan function.
 *
 * Demonstrates: a required external library that is present (zlib, found
 * through pkg-config by meson); the module really calls it at load.
 */

/*** MODULEINFO
	<depend>zlib</depend>
	<support_level>extended</support_level>
 ***/

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	static const char sample[] = "asterisk";
	char event[32];
	unsigned long crc;

	ast_module_trace(AST_MODULE, "load");
	crc = crc32(0L, (const Bytef *) sample, (uInt) strlen(sample));
	snprintf(event, sizeof(event), "crc32=%08lx", crc);
	ast_module_trace(AST_MODULE, event);
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "CRC32 dialplan function");
