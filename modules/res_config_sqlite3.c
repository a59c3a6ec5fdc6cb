/*
 * res_config_sqlite3 - SQLite 3 realtime driver.
 *
 * Demonstrates: a second present external library (sqlite3); load opens an
 * in-memory database and runs a query, and declines if SQLite cannot.
 */

/*** MODULEINFO
	<depend>sqlite3</depend>
	<support_level>extended</support_level>
 ***/

#include <stdio.h>
#include <sqlite3.h>

#include "asterisk/module.h"
#include "asterisk/core.h"

static int load_module(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char event[32];
	int answer = -1;

	ast_module_trace(AST_MODULE, "load");
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		sqlite3_close(db);
		return AST_MODULE_LOAD_DECLINE;
	}
	if (sqlite3_prepare_v2(db, "SELECT 40 + 2", -1, &stmt, NULL) == SQLITE_OK
		&& sqlite3_step(stmt) == SQLITE_ROW) {
		answer = sqlite3_column_int(stmt, 0);
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (answer != 42) {
		return AST_MODULE_LOAD_DECLINE;
	}
	snprintf(event, sizeof(event), "sqlite=%d", answer);
	ast_module_trace(AST_MODULE, event);
	return AST_MODULE_LOAD_SUCCESS;
}

static int unload_module(void)
{
	ast_module_trace(AST_MODULE, "unload");
	return 0;
}

AST_MODULE_INFO_STANDARD_EXTENDED(ASTERISK_GPL_KEY, "SQLite 3 realtime config engine");
