/*
 * The one table that maps DTMF keys to RFC 4733 event codes (section 3.2),
 * shared by the RFC 4733 receiver and generator and the in-band detector so
 * that they can never disagree about what '*' is.
 */
#include "dtmf.h"

static const char keys[] = "0123456789*#ABCD!";

int dtmf_code(char digit)
{
	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	for (unsigned i = 0; i <= DTMF_CODE_MAX; i++) {
		if (keys[i] == digit && digit != '\0')
			return (int)i;
	}
	return -1;
}

char dtmf_digit(unsigned code)
{
	return code <= DTMF_CODE_MAX ? keys[code] : '\0';
}
