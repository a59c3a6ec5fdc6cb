/*
 * test_sorcery - unit tests for the sorcery wizards.
 *
 * Demonstrates: a required build option (<depend>TEST_FRAMEWORK</depend>):
 * built only with -Dbuild_options=TEST_FRAMEWORK, otherwise listed in meson's
 * summary as disabled; and a third, required, user of "sorcery_wizard".
 */

/*** MODULEINFO
	<depend>TEST_FRAMEWORK</depend>
	<depend type="interface">sorcery_wizard</depend>
	<support_level>core</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

#ifndef TEST_FRAMEWORK
#error "test_sorcery needs the TEST_FRAMEWORK build option"
#endif

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

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Sorcery test module");
