/*
 * What res_pjsip_session exports (it is AST_MODFLAG_GLOBAL_SYMBOLS, so other modules can call it).
 * A module that calls these requires it: <depend>res_pjsip_session</depend> in its MODULEINFO
 * (buildtool check reports a call without it as undeclared-dependency).
 * res_pjsip_session.c includes this header, so the compiler keeps the prototypes true.
 */

#ifndef _ASTERISK_RES_PJSIP_SESSION_H
#define _ASTERISK_RES_PJSIP_SESSION_H

/*! Create a session for an endpoint; returns 0 on success. */
int ast_sip_session_create(const char *endpoint);

#endif /* _ASTERISK_RES_PJSIP_SESSION_H */
