/*
 * res_fax_spandsp - a FAX technology for res_fax.
 *
 * Demonstrates: <enhance>res_fax</enhance> (Asterisk's only .enhances user):
 * it adds a technology to res_fax, and requires it to do so.
 */

/*** MODULEINFO
	<depend>res_fax</depend>
	<enhance>res_fax</enhance>
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

/* From res_fax (GLOBAL_SYMBOLS). */
int ast_fax_tech_register(const char *tech);

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	ast_fax_tech_register("spandsp");
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "Spandsp G.711 and T.38 FAX Technologies");
