/*
 * Aligned text tables for the tool's listings: a header row, columns
 * padded to their widest cell, two spaces apart. Cells are cleaned on the
 * way out: text that came from phones (a User-Agent, a Contact) must not
 * be able to send escape sequences to the administrator's terminal.
 */
#ifndef HF_CLI_TABLE_H
#define HF_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_COLS_MAX 10

/* head: ncols titles; cells: nrows * ncols strings, row by row (NULL is
 * an empty cell); align: NULL or ncols chars, 'r' right-aligns a column. */
void table_print(FILE *f, size_t ncols, const char *const *head, const char *align,
		 const char *const *cells, size_t nrows);

/* Writes s with control characters replaced by '?'. */
void table_put_clean(FILE *f, const char *s);
/* The same into dst (cap bytes, always terminated; a character that does
 * not fit is left out whole). Returns the length written. */
size_t table_clean_copy(char *dst, size_t cap, const char *s);

#endif
