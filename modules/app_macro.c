/*
 * app_macro - Macro() (deprecated).
 *
 * Demonstrates: a deprecated module with <deprecated_in>, <removed_in> and
 * <replacement> (app_stack); all of it is injected and readable with
 * `buildtool inspect`.
 */

/*** MODULEINFO
	<support_level>deprecated</support_level>
	<deprecated_in>16</deprecated_in>
	<removed_in>21</removed_in>
	<replacement>app_stack</replacement>
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

AST_MODULE_INFO_STANDARD_DEPRECATED(ASTERISK_GPL_KEY, "Extension Macros");
