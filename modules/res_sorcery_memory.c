/*
 * res_sorcery_memory - in-memory sorcery wizard.
 *
 * Demonstrates: one of two providers of the interface "sorcery_wizard"
 * (<provide>); the graph loader loads every provider of an interface before
 * the interface's users (res_pjsip, res_mwi_external, test_sorcery).
 */

/*** MODULEINFO
	<provide>sorcery_wizard</provide>
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

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Sorcery In-Memory Object Wizard",
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.load_pri = AST_MODPRI_REALTIME_DRIVER,
);
