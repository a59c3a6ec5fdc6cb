/*
 * res_sorcery_config - configuration-file sorcery wizard.
 *
 * Demonstrates: the second provider of "sorcery_wizard", and a core
 * built-in dependency written with type="builtin" (extconfig lives in the
 * core, never in a module).
 */

/*** MODULEINFO
	<provide>sorcery_wizard</provide>
	<depend type="builtin">extconfig</depend>
	<support_level>core</support_level>
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

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Sorcery Configuration File Object Wizard",
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.load_pri = AST_MODPRI_REALTIME_DRIVER,
);
