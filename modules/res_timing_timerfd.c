/*
 * res_timing_timerfd - timerfd timing interface (Linux only).
 *
 * Demonstrates: a platform conflict (<conflict>win32</conflict>: never built
 * on Windows) and one side of a module conflict (res_timing_pthread
 * declares <conflict>res_timing_timerfd</conflict>).
 */

/*** MODULEINFO
	<conflict>win32</conflict>
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

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Timerfd Timing Interface",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_TIMING,
);
