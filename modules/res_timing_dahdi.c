/*
 * res_timing_dahdi - DAHDI timing interface.
 *
 * Demonstrates: a module whose load declines (AST_MODULE_LOAD_DECLINE):
 * this build has no DAHDI timer, so it always declines, on every machine,
 * and app_meetme, which requires it, is declined in turn by the loader.
 */

/*** MODULEINFO
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	/* No /dev/dahdi/timer in this build: not configured, so decline. */
	ast_module_trace(AST_MODULE, "decline");
	return AST_MODULE_LOAD_DECLINE;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "DAHDI Timing Interface",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_TIMING,
);
