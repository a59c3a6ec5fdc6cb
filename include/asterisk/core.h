/*
 * asterisk/core.h - the few core services the bundled modules call.
 *
 * They live in libastcore.so (core/astcore.c), the stand-in for the Asterisk
 * binary. Modules do not link against it, just as Asterisk modules do not
 * link against the asterisk executable: the loader dlopens the core with
 * RTLD_GLOBAL first (`buildtool load --preload-library .../libastcore.so`),
 * and the modules' calls bind to it at run time.
 *
 * A module that includes only asterisk/module.h needs no core at all.
 */
#ifndef ASTERISK_CORE_H
#define ASTERISK_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/*!
 * \brief Record that \a module reached \a event ("load", "unload", "reload",
 * or a module-specific word).
 *
 * Appends "module:event\n" to an in-memory log, so a test (through ctypes)
 * sees exactly which callbacks ran, in which order.
 */
void ast_module_trace(const char *module, const char *event);

/*! \brief The whole trace log so far ("" when empty); valid until the next trace or reset. */
const char *ast_module_trace_log(void);

/*! \brief Empty the trace log. */
void ast_module_trace_reset(void);

/*! \brief Number of lines in the trace log. */
unsigned int ast_module_trace_count(void);

#ifdef __cplusplus
}
#endif

#endif /* ASTERISK_CORE_H */
