/*
 * res_mwi_external - externally sourced message waiting indication.
 *
 * Demonstrates: an optional user of the interface "sorcery_wizard"
 * (<use type="interface">): it loads without any provider, but when
 * providers are loaded they are loaded before it.
 */

/*** MODULEINFO
	<use type="interface">sorcery_wizard</use>
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

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Core external MWI resource");
