/*
 * res_pjsip - the base of the SIP stack (three-deep required chain:
 * res_pjsip <- res_pjsip_session <- chan_pjsip).
 *
 * Demonstrates: AST_MODFLAG_GLOBAL_SYMBOLS (its exported functions are
 * called by res_pjsip_session), a required interface (some sorcery wizard
 * must be loaded first), and an optional external library (libcrypto: when
 * meson finds it the module is linked with it and built with -DHAVE_CRYPTO).
 */

/*** MODULEINFO
	<depend type="interface">sorcery_wizard</depend>
	<use type="external">crypto</use>
	<support_level>core</support_level>
 ***/

#include <stdio.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
#include "asterisk/res_pjsip.h"

#ifdef HAVE_CRYPTO
#include <openssl/crypto.h>
#endif

static int service_count;

/* Exported: other modules call it, so this module is GLOBAL_SYMBOLS. */
int ast_sip_register_service(const char *service)
{
	char event[96];

	snprintf(event, sizeof(event), "register_service:%s", service);
	ast_module_trace(AST_MODULE, event);
	return ++service_count;
}

/* Exported: the number of services registered so far. */
int ast_sip_service_count(void)
{
	return service_count;
}

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
#ifdef HAVE_CRYPTO
	/* Really call the optional library, so the link is real. */
	if (OpenSSL_version_num() != 0) {
		ast_module_trace(AST_MODULE, "crypto");
	}
#endif
	service_count = 0;
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

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_GLOBAL_SYMBOLS | AST_MODFLAG_LOAD_ORDER, "Basic SIP resource",
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	.load_pri = AST_MODPRI_CHANNEL_DEPEND - 5,
);
