/*
 * app_meetme - MeetMe conference bridge.
 *
 * Demonstrates: DECLINE propagation. It requires res_timing_dahdi, which
 * always declines; the graph loader then declines app_meetme without
 * calling its load (so "app_meetme:load" never appears in the trace).
 */

/*** MODULEINFO
	<depend>res_timing_dahdi</depend>
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

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "MeetMe conference bridge");
