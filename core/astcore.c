/*
 * libastcore - the tiny "core" the bundled modules run against.
 *
 * It keeps one in-memory trace log that every module's load, unload and
 * reload callbacks append to (see include/asterisk/core.h). The graph loader
 * dlopens this library RTLD_GLOBAL before any module, so the modules' calls
 * to ast_module_trace() bind here; tests read the log through ctypes to see
 * the order in which modules were loaded.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "asterisk/core.h"

#define AST_CORE_EXPORT __attribute__((visibility("default")))

static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;
static char *trace_buf;
static size_t trace_len;
static size_t trace_cap;
static unsigned int trace_lines;
static const char empty[] = "";

static int trace_reserve(size_t extra)
{
	size_t want = trace_len + extra + 1;
	size_t cap = trace_cap ? trace_cap : 256;
	char *grown;

	if (want <= trace_cap) {
		return 0;
	}
	while (cap < want) {
		cap *= 2;
	}
	grown = realloc(trace_buf, cap);
	if (!grown) {
		return -1;
	}
	trace_buf = grown;
	trace_cap = cap;
	return 0;
}

AST_CORE_EXPORT void ast_module_trace(const char *module, const char *event)
{
	size_t mlen, elen;

	module = module ? module : "(null)";
	event = event ? event : "(null)";
	mlen = strlen(module);
	elen = strlen(event);
	pthread_mutex_lock(&trace_lock);
	if (trace_reserve(mlen + elen + 2) == 0) {
		memcpy(trace_buf + trace_len, module, mlen);
		trace_len += mlen;
		trace_buf[trace_len++] = ':';
		memcpy(trace_buf + trace_len, event, elen);
		trace_len += elen;
		trace_buf[trace_len++] = '\n';
		trace_buf[trace_len] = '\0';
		trace_lines++;
	}
	pthread_mutex_unlock(&trace_lock);
}

AST_CORE_EXPORT const char *ast_module_trace_log(void)
{
	const char *log;

	pthread_mutex_lock(&trace_lock);
	log = trace_buf ? trace_buf : empty;
	pthread_mutex_unlock(&trace_lock);
	return log;
}

AST_CORE_EXPORT void ast_module_trace_reset(void)
{
	pthread_mutex_lock(&trace_lock);
	trace_len = 0;
	trace_lines = 0;
	if (trace_buf) {
		trace_buf[0] = '\0';
	}
	pthread_mutex_unlock(&trace_lock);
}

AST_CORE_EXPORT unsigned int ast_module_trace_count(void)
{
	unsigned int lines;

	pthread_mutex_lock(&trace_lock);
	lines = trace_lines;
	pthread_mutex_unlock(&trace_lock);
	return lines;
}
