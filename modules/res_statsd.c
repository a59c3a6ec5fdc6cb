/*
 * res_statsd - StatsD client.
 *
 * Demonstrates: an optional module (res_pjsip_session <use>s it) and a
 * module WITHOUT GLOBAL_SYMBOLS that still exports a function: other modules
 * may not bind to it, which app_statsd_hook shows by failing to dlopen.
 */

/*** MODULEINFO
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

static unsigned int metrics;

/* Exported, but this module is not GLOBAL_SYMBOLS: invisible to others. */
void ast_statsd_log(const char *metric)
{
	(void) metric;
	metrics++;
}

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	metrics = 0;
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "Expose Asterisk Statistics to StatsD");
