/*
 * What res_fax exports (it is AST_MODFLAG_GLOBAL_SYMBOLS, so other modules can call it).
 * A module that calls these requires it: <depend>res_fax</depend> in its MODULEINFO
 * (buildtool check reports a call without it as undeclared-dependency).
 * res_fax.c includes this header, so the compiler keeps the prototypes true.
 */

#ifndef _ASTERISK_RES_FAX_H
#define _ASTERISK_RES_FAX_H

/*! Register a FAX technology; returns 0 on success. */
int ast_fax_tech_register(const char *tech);

#endif /* _ASTERISK_RES_FAX_H */
