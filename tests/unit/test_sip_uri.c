/*
 * Unit tests for the SIP header value parsers (core/sip/msg_uri.c): SIP,
 * SIPS, tel and unknown-scheme URIs, name-addr/addr-spec with header
 * parameters, Via values, %-unescaping and URI comparison (RFC 3261
 * 19.1.4), each with the malformed inputs it must refuse.
 */
#include "sip_test_util.h"

/* --- value parsers ------------------------------------------------------ */

static void test_uri_parse(void **state)
{
	(void)state;
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(&u, pl_from("sips:alice:secret@[2001:DB8::1]:5061;transport=tls;lr?Subject=hi&X=%20y")), 0);
	assert_pl(u.scheme, "sips");
	assert_pl(u.user, "alice");
	assert_pl(u.password, "secret");
	assert_pl(u.host, "2001:DB8::1");
	assert_true(u.ipv6);
	assert_int_equal(u.port, 5061);
	assert_pl(u.params, "transport=tls;lr");
	assert_pl(u.headers, "Subject=hi&X=%20y");
	struct pl v;
	assert_true(sip_param_get(u.params, "LR", &v));
	assert_int_equal(v.l, 0);
	assert_true(sip_param_get(u.params, "transport", &v));
	assert_pl(v, "tls");
	assert_false(sip_param_get(u.params, "maddr", &v));

	assert_int_equal(sip_uri_parse(&u, pl_from("SIP:192.0.2.1")), 0);
	assert_pl(u.host, "192.0.2.1");
	assert_null(u.user.p);
	assert_int_equal(sip_uri_parse(&u, pl_from("tel:+1-201-555-0123;phone-context=x")), 0);
	assert_pl(u.user, "+1-201-555-0123");
	assert_pl(u.params, "phone-context=x");

	static const char *const bad[] = {
		"", "sip", "sip:", ":x", "1sip:a@b", "sip:a@", "sip:@b", "sip:a b@c", "sip:a@b c",
		"sip:a@b:", "sip:a@b:0", "sip:a@b:65536", "sip:a@b:123456", "sip:a@[]", "sip:a@[::1",
		"sip:a@[zz::1]", "sip:a@b;;x", "sip:a@b;=x", "sip:a@b?", "sip:a%4@b", "sip:a%G1@b",
		"sip:a@b>", "<sip:a@b>", "sip:2001:db8::10", "tel:", "tel:12 34", "http:a b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_uri_parse(&u, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_null(u.scheme.p);
	}
	assert_int_equal(sip_uri_parse(NULL, pl_from("sip:a@b")), EINVAL);
	assert_int_equal(sip_uri_parse(&u, PL_NULL), EINVAL);
}

static void test_addr_parse(void **state)
{
	(void)state;
	struct sip_addr a;
	assert_int_equal(sip_addr_parse(&a, pl_from("  *  ")), 0);
	assert_true(a.star);
	assert_int_equal(sip_addr_parse(&a, pl_from("Bob <sips:bob@example.com;transport=tcp> ;tag = x1 ;expires=\"a;b\"")), 0);
	assert_pl(a.dname, "Bob");
	assert_pl(a.uri_raw, "sips:bob@example.com;transport=tcp");
	assert_pl(a.uri.params, "transport=tcp");
	assert_pl(a.tag, "x1");
	struct pl v;
	assert_true(sip_param_get(a.params, "expires", &v));
	assert_pl(v, "\"a;b\"");
	assert_int_equal(sip_addr_parse(&a, pl_from("sip:b@example.com;tag=7")), 0);
	assert_null(a.dname.p);
	assert_pl(a.uri_raw, "sip:b@example.com");
	assert_pl(a.tag, "7");
	assert_int_equal(sip_addr_parse(&a, pl_from("\"\" <sip:b@example.com>")), 0);
	assert_int_equal(a.dname.l, 0);
	assert_int_equal(sip_addr_parse(&a, pl_from("<urn:service:sos>")), 0);
	assert_pl(a.uri.scheme, "urn");

	static const char *const bad[] = {
		"", "\"open <sip:a@b>", "sip:a@b?x=y", "Bell, A <sip:a@b>", "< sip:a@b>",
		"<sip:a@b >", "<sip:a@b", "sip:a@b junk", "<sip:a@b>;;", "<sip:a@b>;=x",
		"<sip:a@b>;tag=", "<sip:a@b>;t=\"x", "\"x\" sip:a@b", "<sip:a@b> x",
		"<>", "noscheme", "* *",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sip_addr_parse(&a, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
}

static void test_via_parse(void **state)
{
	(void)state;
	struct sip_via v;
	assert_int_equal(sip_via_parse(&v, pl_from("SIP / 2.0 / TLS [::1] : 5061 ; branch = z9hG4bKa ; rport ; received=10.0.0.1")), 0);
	assert_pl(v.proto, "SIP / 2.0");
	assert_pl(v.transport, "TLS");
	assert_pl(v.host, "::1");
	assert_true(v.ipv6);
	assert_int_equal(v.port, 5061);
	assert_pl(v.branch, "z9hG4bKa");
	assert_true(v.rport);
	assert_int_equal(v.rport_val.l, 0);
	assert_pl(v.received, "10.0.0.1");
	assert_int_equal(sip_via_parse(&v, pl_from("SIP/2.0/UDP h.example.com;rport=5062")), 0);
	assert_pl(v.proto, "SIP/2.0");
	assert_pl(v.rport_val, "5062");
	assert_int_equal(sip_via_parse(&v, pl_from("SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK")), 0);

	static const char *const bad[] = {
		"", "SIP/2.0/UDP", "SIP/2.0 UDP h", "SIP/2.0/UDPh", "SIP//UDP h", "SIP/2.0/UDP h;;",
		"SIP/2.0/UDP h:x", "SIP/2.0/UDP h x", "SIP/2.0/UDP [1::2", "SIP/2.0/UDP h;a=",
		"SIP/2.0/UDP h,", "/2.0/UDP h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sip_via_parse(&v, pl_from(bad[i])) != EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_null(v.host.p);
	}
}

static void test_unescape(void **state)
{
	(void)state;
	char b[8];
	assert_int_equal(sip_unescape(pl_from("a%41%62"), b, sizeof(b)), 3);
	assert_string_equal(b, "aAb");
	assert_int_equal(sip_unescape(pl_from(""), b, sizeof(b)), 0);
	assert_int_equal(sip_unescape(pl_from("%4"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("%zz"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("1234567"), b, sizeof(b)), 7);
	assert_int_equal(sip_unescape(pl_from("12345678"), b, sizeof(b)), -1);
	assert_int_equal(sip_unescape(pl_from("x"), b, 0), -1);
	assert_int_equal(sip_unescape(pl_from("x"), NULL, 4), -1);
}

static void test_uri_equal(void **state)
{
	(void)state;
	/* RFC 3261 19.1.4, the equivalent pairs ... */
	static const char *const same[][2] = {
		{ "sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com;security=on" },
		{ "sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on" },
		{ "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		  "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com" },
		{ "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		  "sip:alice@atlanta.com?priority=urgent&subject=project%20x" },
		{ "sip:a@[2001:db8::1]", "sip:a@[2001:DB8:0::1]" },
		/* found by fuzzing: a repeated parameter must not make a URI
		 * differ from itself (the first value counts) */
		{ "sip:u@h;tag=1;tag=2", "sip:u@h;tag=1;tag=2" },
	};
	/* ... and the ones that are not. */
	static const char *const differ[][2] = {
		{ "SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:5060" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp" },
		{ "sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp" },
		{ "sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting" },
		{ "sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4" },
		{ "sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off" },
		{ "sip:a@b.com", "sips:a@b.com" },
		{ "sip:a@b.com", "sip:a:pw@b.com" },
		{ "sip:a%3Bb@c.com", "sip:a;b@c.com" }, /* escaped reserved stays distinct */
		{ "sip:null-%00-null@example.com", "sip:null-@example.com" },
	};
	struct sip_uri a, b;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(sip_uri_parse(&a, pl_from(same[i][0])), 0);
		assert_int_equal(sip_uri_parse(&b, pl_from(same[i][1])), 0);
		if (!sip_uri_equal(&a, &b) || !sip_uri_equal(&b, &a))
			fail_msg("%s != %s", same[i][0], same[i][1]);
	}
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		assert_int_equal(sip_uri_parse(&a, pl_from(differ[i][0])), 0);
		assert_int_equal(sip_uri_parse(&b, pl_from(differ[i][1])), 0);
		if (sip_uri_equal(&a, &b) || sip_uri_equal(&b, &a))
			fail_msg("%s == %s", differ[i][0], differ[i][1]);
	}
	assert_false(sip_uri_equal(&a, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_via_parse),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_uri_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
