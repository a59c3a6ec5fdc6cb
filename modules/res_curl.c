/*
 * res_curl - libcurl resource.
 *
 * Demonstrates: a required external library that is absent on a machine
 * without libcurl's headers (pkg-config libcurl): the module is not built,
 * and meson's summary says why.
 */

/*** MODULEINFO
	<depend>curl</depend>
	<support_level>core</support_level>
 ***/

#include <curl/curl.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
#include "asterisk/res_curl.h"

/* Exported for func_curl. */
int ast_curl_available(void)
{
	return curl_version() != NULL;
}

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	if (curl_global_init(CURL_GLOBAL_ALL)) {
		return AST_MODULE_LOAD_DECLINE;
	}
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	curl_global_cleanup();
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_GLOBAL_SYMBOLS | AST_MODFLAG_LOAD_ORDER, "cURL Resource Module",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_REALTIME_DEPEND,
);
