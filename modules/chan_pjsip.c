/*
 * chan_pjsip - the SIP channel driver, top of the three-deep required chain.
 *
 * Demonstrates: two required modules, one written as plain <depend> and one
 * as <depend type="module">, and an ordinary (lazily bound) call into a
 * GLOBAL_SYMBOLS module at load.
 */

/*** MODULEINFO
	<depend>res_pjsip</depend>
	<depend type="module">res_pjsip_session</depend>
	<support_level>core</support_level>
 ***/

#include "asterisk/module.h"
#include "asterisk/core.h"

/* From res_pjsip_session (GLOBAL_SYMBOLS). */
int ast_sip_session_create(const char *endpoint);

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	if (ast_sip_session_create("PJSIP/alice") < 1) {
		return AST_MODULE_LOAD_DECLINE;
	}
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "PJSIP Channel Driver",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_CHANNEL_DRIVER,
);
