/*
 * res_timing_pthread - pthread timing interface.
 *
 * Demonstrates: a conflict between two modules
 * (<conflict>res_timing_timerfd</conflict>). Both are built; the loader
 * refuses to load both, so the bundled modules.conf noloads this one.
 */

/*** MODULEINFO
	<conflict>res_timing_timerfd</conflict>
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

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "pthread Timing Interface",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_TIMING,
);
