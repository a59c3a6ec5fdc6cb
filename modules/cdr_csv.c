/*
 * cdr_csv - comma separated values CDR backend.
 *
 * Demonstrates: a core built-in dependency written as a plain
 * <depend>cdr</depend> ("cdr" is in the catalogue's builtins): injected into
 * the module's builtins list, never a module the loader has to find.
 */

/*** MODULEINFO
	<depend>cdr</depend>
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

static int reload_module(void)
{
	ast_module_trace(AST_MODULE, "reload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Comma Separated Values CDR Backend",
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.load_pri = AST_MODPRI_CDR_DRIVER,
);
