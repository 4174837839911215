"""
Expectations for the SIP torture corpus (tests/unit/data/torture/*.dat:
RFC 4475 and RFC 5118 messages) when sent to the daemon as a whole
message over UDP and over TCP.

Classes:
  OK      a valid request: the daemon must answer it, and not with 400
  BAD     an invalid request that can be answered: the daemon must answer
          with one of the listed codes (400 unless said otherwise); None in
          the list allows no answer at all, 'close' allows the daemon to
          close the TCP connection instead of answering
  NONE    a response (or an ACK): nothing may come back
  ANY     the RFC leaves the choice to the element (answer with anything, or
          not at all); only the daemon's survival is checked

The value is (class, allowed codes or None, note). A per-transport entry
can override: name -> {'udp': (...), 'tcp': (...)}. A file in the corpus
that is missing here fails the test, so the table stays explicit.
"""

OK, BAD, NONE, ANY = 'OK', 'BAD', 'NONE', 'ANY'

E400 = (400,)

TABLE = {
    # --- RFC 4475 3.1.1: valid messages -----------------------------------
    'wsinv': (OK, None, 'short tortuous INVITE'),
    'intmeth': (OK, None, 'wide range of valid characters; unknown method -> 501 expected'),
    'esc01': (OK, None, 'valid use of % escaping'),
    'escnull': (OK, None, 'escaped nulls in URIs (REGISTER)'),
    'esc02': (OK, None, 'RE%47IST%45R is an unknown method, not REGISTER'),
    'lwsdisp': (OK, None, 'no LWS between display name and <'),
    'longreq': (OK, None, 'long values in header fields'),
    'dblreq': {'udp': (OK, None, 'extra trailing octets in a UDP datagram are ignored'),
               'tcp': (OK, None, 'over TCP the trailing INVITE is a second message')},
    'semiuri': (OK, None, 'semicolon-separated parameters in URI user part'),
    'transports': (OK, None, 'varied and unknown transport types in Via'),
    'mpart01': (OK, None, 'multipart MIME body'),
    'unreason': (NONE, None, 'a response: unusual reason phrase'),
    'noreason': (NONE, None, 'a response: no reason phrase'),
    # --- RFC 4475 3.1.2: invalid messages ---------------------------------
    'badinv01': (BAD, E400, 'extraneous header field separators'),
    'clerr': {'udp': (BAD, E400, 'Content-Length larger than the datagram'),
              'tcp': (ANY, None, 'Content-Length larger than what was sent: the stream waits for the rest')},
    'ncl': {'udp': (BAD, E400, 'negative Content-Length'),
            'tcp': (BAD, E400 + ('close',), 'negative Content-Length: the stream cannot be framed; '
                                         '400 or closing the connection')},
    'scalar02': (BAD, E400, 'request scalar fields with overlarge values'),
    'scalarlg': (NONE, None, 'a response with overlarge scalar values'),
    'quotbal': (BAD, E400, 'unterminated quoted string in display name'),
    'ltgtruri': (BAD, E400, '<> enclosing Request-URI'),
    'lwsruri': (BAD, E400, 'embedded LWS in Request-URI'),
    'lwsstart': (BAD, E400, 'multiple SP separating Request-Line elements'),
    'trws': (ANY, None, 'SP characters at end of Request-Line: RFC 4475 finds rejecting '
                        'acceptable, and a liberal element may ignore them'),
    'escruri': (BAD, E400, 'escaped headers in SIP Request-URI'),
    'baddate': (ANY, None, 'invalid time zone in Date: RFC 4475 lets elements ignore Date'),
    'regbadct': (BAD, (400, 401), 'Contact URI with ? not enclosed in <>; a registrar that '
                                   'authenticates before it reads Contact (RFC 3261 10.3 step 3 '
                                   'before step 6) answers 401'),
    'badaspec': (BAD, E400, 'spaces within addr-spec'),
    'baddn': {'udp': (BAD, E400, 'non-token characters in display name'),
              'tcp': (ANY, None, 'the corpus file has no empty line after its headers: a whole '
                                 'datagram over UDP, but an unfinished message on a stream')},
    'badvers': (BAD, (505, 400), 'unknown protocol version: 505'),
    'mismatch01': (BAD, E400, 'start line and CSeq method mismatch'),
    'mismatch02': (BAD, (501, 400), 'unknown method with CSeq method mismatch: 501 (or 400)'),
    'bigcode': (NONE, None, 'a response with an overlarge status code'),
    # --- RFC 4475 3.2: transaction layer ---------------------------------
    'badbranch': (OK, None, 'branch is only the magic cookie'),
    # --- RFC 4475 3.3: application layer ---------------------------------
    'insuf': (BAD, E400 + (None,), 'missing Call-ID, From, To: 400, or dropped since no '
                                   'well-formed response can be built without them'),
    'unkscm': (BAD, (416, 400), 'Request-URI with unknown scheme: 416'),
    'novelsc': (OK, None, 'known but atypical scheme (soap.beep): 416 or anything but 400'),
    'unksm2': (ANY, None, 'REGISTER with non-SIP URIs in To and Contact: registrar-dependent'),
    'bext01': (OK, None, 'Require: unknown option -> 420 expected'),
    'invut': (OK, None, 'unknown Content-Type -> 415 expected'),
    'regaut01': (OK, None, 'unknown Authorization scheme -> 401 expected'),
    'multi01': (BAD, E400, 'multiple values in single-value header fields'),
    'mcl01': {'udp': (BAD, E400, 'multiple Content-Length values'),
              'tcp': (BAD, E400 + ('close',), 'multiple Content-Length values: the stream cannot be '
                                           'framed; 400 or closing the connection')},
    'bcast': (NONE, None, 'a 200 response with a broadcast Via'),
    'zeromf': (OK, None, 'Max-Forwards: 0 on a request for us'),
    'cparam01': (OK, None, 'REGISTER with a Contact header parameter'),
    'cparam02': (OK, None, 'REGISTER with a URI parameter in Contact'),
    'regescrt': (OK, None, 'REGISTER with a URL-escaped header in Contact'),
    'sdp01': (OK, None, 'unacceptable Accept offering'),
    # --- RFC 4475 3.4: backward compatibility -----------------------------
    'inv2543': {'udp': (OK, None, 'INVITE with RFC 2543 syntax'),
                'tcp': (ANY, None, 'no Content-Length, which a stream needs (RFC 3261 18.3) '
                                   'to frame the body: closing the connection is fair')},
    # --- RFC 5118: IPv6 ---------------------------------------------------
    'ipv6-good': (OK, None, 'valid IPv6 reference in Request-URI'),
    'ipv6-bad': (BAD, E400, 'IPv6 reference without brackets in Request-URI'),
    'port-ambiguous': (OK, None, '[2001:db8::10:5070] is an address, not a port'),
    'port-unambiguous': (OK, None, '[2001:db8::10]:5070'),
    'via-received-param-with-delim': (OK, None, 'received=[IPv6] in Via'),
    'via-received-param-no-delim': (OK, None, 'received=IPv6 without brackets in Via'),
    'ipv6-in-sdp': (OK, None, 'IPv6 in SDP'),
    'mult-ip-in-header': (OK, None, 'IPv4 and IPv6 in headers'),
    'mult-ip-in-sdp': (OK, None, 'IPv4 and IPv6 in SDP'),
    'ipv4-mapped-ipv6': (OK, None, 'IPv4-mapped IPv6 addresses'),
    'ipv6-bug-abnf-3-colons': (ANY, None, 'the RFC 3261 ABNF bug: 3 colons; lenient parsers accept it'),
    'ipv6-correct-abnf-2-colons': (OK, None, 'the correct form of the same address'),
}

# Some corpora name the RFC 5118 files with an "rfc5118-" prefix or with
# underscores; map them to the names above.
ALIASES = {}


def expectation(name, transport):
    key = name[:-4] if name.endswith('.dat') else name
    key = ALIASES.get(key, key)
    for cand in (key, key.replace('_', '-'), key.replace('rfc5118-', ''),
                 key.replace('rfc4475-', '')):
        if cand in TABLE:
            e = TABLE[cand]
            if isinstance(e, dict):
                e = e[transport]
            return e
    return None
