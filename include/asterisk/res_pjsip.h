/*
 * What res_pjsip exports (it is AST_MODFLAG_GLOBAL_SYMBOLS, so other modules can call it).
 * A module that calls these requires it: <depend>res_pjsip</depend> in its MODULEINFO
 * (buildtool check reports a call without it as undeclared-dependency).
 * res_pjsip.c includes this header, so the compiler keeps the prototypes true.
 */

#ifndef _ASTERISK_RES_PJSIP_H
#define _ASTERISK_RES_PJSIP_H

/*! Register a SIP service; returns 0 on success. */
int ast_sip_register_service(const char *service);

/*! The number of services registered so far. */
int ast_sip_service_count(void);

#endif /* _ASTERISK_RES_PJSIP_H */
