/*
 * func_curl - CURL() dialplan function.
 *
 * Demonstrates: transitive disabling. It needs no library itself, only
 * res_curl; when libcurl is missing res_curl is not built, so neither is
 * this module, and meson's summary gives the chain:
 *   func_curl: requires res_curl, which requires library curl (not found)
 */

/*** MODULEINFO
	<depend>res_curl</depend>
	<support_level>core</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

/* From res_curl (GLOBAL_SYMBOLS). */
int ast_curl_available(void);

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	return ast_curl_available() ? AST_MODULE_LOAD_SUCCESS : AST_MODULE_LOAD_DECLINE;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "Load external URL");
