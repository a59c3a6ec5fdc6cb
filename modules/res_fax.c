/*
 * res_fax - generic FAX applications.
 *
 * Demonstrates: the target of an <enhance> (res_fax_spandsp enhances it),
 * and a GLOBAL_SYMBOLS module whose exported function
 * ast_fax_tech_register() another module calls.
 */

/*** MODULEINFO
	<support_level>core</support_level>
 ***/

#include <stdio.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
#include "asterisk/res_fax.h"

static int tech_count;

/* Exported: FAX technologies register here. */
int ast_fax_tech_register(const char *tech)
{
	char event[96];

	snprintf(event, sizeof(event), "tech_register:%s", tech);
	ast_module_trace(AST_MODULE, event);
	return ++tech_count;
}

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	tech_count = 0;
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

static int reload_module(void)
{
	ast_module_trace(AST_MODULE, "reload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_GLOBAL_SYMBOLS | AST_MODFLAG_LOAD_ORDER, "Generic FAX Applications",
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.load_pri = AST_MODPRI_APP_DEPEND,
);
