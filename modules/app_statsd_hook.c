/*
 * app_statsd_hook - keeps a pointer to res_statsd's function.
 *
 * Demonstrates the seed's "taking the address of a function from another
 * module": the pointer below is data, so the dynamic linker must resolve
 * ast_statsd_log when the module is mapped, even under RTLD_LAZY. res_statsd
 * is not GLOBAL_SYMBOLS, so the symbol is never visible and dlopen fails
 * ("undefined symbol: ast_statsd_log") every time, in any load order. It is
 * noload'ed in the bundled modules.conf.
 */

/*** MODULEINFO
	<depend>res_statsd</depend>
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

/* From res_statsd (NOT GLOBAL_SYMBOLS). */
void ast_statsd_log(const char *metric);

struct statsd_hook {
	const char *metric;
	void (*log)(const char *metric);
};

/* Not static and not const, so the compiler cannot turn the pointer back
 * into a direct (lazily bound) call: the address is a data relocation. */
struct statsd_hook app_statsd_hook_table = {
	.metric = "app_statsd_hook.calls",
	.log = ast_statsd_log,
};

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	app_statsd_hook_table.log(app_statsd_hook_table.metric);
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "StatsD hook (takes the address of another module's function)");
