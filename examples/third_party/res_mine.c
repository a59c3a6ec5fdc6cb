/*
 * res_mine - a third-party module, built out of tree against an installed
 * asterisk-modules (see meson.build here and docs/build.md).
 *
 * Its MODULEINFO names an installed in-tree module (res_pjsip); the build
 * resolves that name against the installed tree (share/buildtool/tree.json)
 * and injects it into the module's info struct: `buildtool inspect
 * res_mine.so` shows requires = res_pjsip. It also requires zlib, which the
 * build links because MODULEINFO says so (buildtool cflags --dependencies).
 */

/*** MODULEINFO
	<depend>res_pjsip</depend>
	<use type="module">res_statsd</use>
	<depend>zlib</depend>
	<support_level>external</support_level>
 ***/

#include <zlib.h>

#include "asterisk/module.h"
#include "asterisk/core.h"
/* What res_pjsip exports (installed with asterisk-modules); MODULEINFO requires it. */
#include "asterisk/res_pjsip.h"

static int load_module(void)
{
	ast_module_trace(AST_MODULE, "load");
	ast_sip_register_service(crc32(0, (const Bytef *) "mine", 4) ? "mine" : "mine-0");
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD(ASTERISK_GPL_KEY, "My third-party SIP service");
