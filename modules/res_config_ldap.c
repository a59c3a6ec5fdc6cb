/*
 * res_config_ldap - LDAP realtime driver.
 *
 * Demonstrates: a module whose load fails (AST_MODULE_LOAD_FAILURE), which
 * stops start-up in the graph loader. It is <defaultenabled>no</defaultenabled>
 * and noload'ed in the bundled modules.conf, so the default start-up succeeds;
 * load it explicitly to see the failure.
 */

/*** MODULEINFO
	<defaultenabled>no</defaultenabled>
	<support_level>extended</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	/* No LDAP server is configured: a hard failure, as in Asterisk. */
	ast_module_trace(AST_MODULE, "failure");
	return AST_MODULE_LOAD_FAILURE;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "LDAP realtime interface",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_REALTIME_DRIVER,
);
