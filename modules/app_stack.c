/*
 * app_stack - Gosub(), Return() and friends.
 *
 * Demonstrates: the replacement named by a deprecated module (app_macro),
 * and an optional build option (<use>TEST_FRAMEWORK</use>): with
 * -Dbuild_options=TEST_FRAMEWORK it is compiled with -DTEST_FRAMEWORK and
 * also traces "test_framework".
 */

/*** MODULEINFO
	<use>TEST_FRAMEWORK</use>
	<support_level>core</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
#ifdef TEST_FRAMEWORK
	ast_module_trace(AST_MODULE, "test_framework");
#endif
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Dialplan subroutines (Gosub, Return, etc)",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_APP_DEPEND,
);
