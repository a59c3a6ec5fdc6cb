/*
 * res_hello - a module built by a plain Makefile with `buildtool cflags`.
 *
 * The Makefile asks buildtool for the flags the way one asks pkg-config:
 * `buildtool cflags res_hello.c --tree TREE --out-dir gen` writes
 * gen/res_hello.modinfo.h and prints -I/-D flags that inject it.
 */

/*** MODULEINFO
	<depend>res_fax</depend>
	<enhance>res_fax</enhance>
	<depend>zlib</depend>
	<support_level>external</support_level>
 ***/

#include <zlib.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
/* What res_fax exports (installed with asterisk-modules); MODULEINFO requires it. */
#include "asterisk/res_fax.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	ast_fax_tech_register(zlibVersion() ? "hello" : "hello-nozlib");
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Hello from a Makefile");
