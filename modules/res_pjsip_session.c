/*
 * res_pjsip_session - SIP sessions, the middle of the required chain.
 *
 * Demonstrates: a required module (res_pjsip) whose exported function it
 * calls at load, an optional module (<use type="module">res_statsd</use>),
 * and GLOBAL_SYMBOLS again (chan_pjsip calls ast_sip_session_create()).
 */

/*** MODULEINFO
	<depend>res_pjsip</depend>
	<use type="module">res_statsd</use>
	<support_level>core</support_level>
 ***/

#include <stdio.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
#include "asterisk/res_pjsip_session.h"

/* From res_pjsip (GLOBAL_SYMBOLS). */
int ast_sip_register_service(const char *service);

static int session_count;

/* Exported for chan_pjsip. */
int ast_sip_session_create(const char *endpoint)
{
	char event[96];

	snprintf(event, sizeof(event), "session_create:%s", endpoint);
	ast_module_trace(AST_MODULE, event);
	return ++session_count;
}

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	if (ast_sip_register_service("session") < 1) {
		return AST_MODULE_LOAD_DECLINE;
	}
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_GLOBAL_SYMBOLS | AST_MODFLAG_LOAD_ORDER, "PJSIP Session resource",
	.load = load_module,
	.unload = unload_module,
	.load_pri = AST_MODPRI_APP_DEPEND,
);
