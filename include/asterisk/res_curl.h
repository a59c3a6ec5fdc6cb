/*
 * What res_curl exports (it is AST_MODFLAG_GLOBAL_SYMBOLS, so other modules can call it).
 * A module that calls these requires it: <depend>res_curl</depend> in its MODULEINFO
 * (buildtool check reports a call without it as undeclared-dependency).
 * res_curl.c includes this header, so the compiler keeps the prototypes true.
 */

#ifndef _ASTERISK_RES_CURL_H
#define _ASTERISK_RES_CURL_H

/*! Non-zero when libcurl is usable. */
int ast_curl_available(void);

#endif /* _ASTERISK_RES_CURL_H */
