#!/usr/bin/env python3
"""
The API behind the admin pages of issue #17 on the real hookflashd
(ASan+UBSan build): the phone setup card and its QR code (decoded with
zbarimg after rsvg-convert when zbar-tools and librsvg2-bin are
installed; otherwise the SVG is checked for form and size), the admin's
password reveal, the settings' groups, labels and sources, and the
system's time zone. Shares web.py's daemon (webkit.env).

    python3 tests/integration/web_pages.py [-v] [-k SUBSTRING]
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check, LOCAL  # noqa: E402
from webkit import Api, env, expect, expect_error, insert_cdrs, register  # noqa: E402

SVG_NS = '{http://www.w3.org/2000/svg}'


def decode_qr(svg_bytes):
    """The text of the QR code in svg_bytes, or None when the tools are
    missing (the caller says so)."""
    if not (shutil.which('zbarimg') and shutil.which('rsvg-convert')):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        svg, png = os.path.join(tmp, 'qr.svg'), os.path.join(tmp, 'qr.png')
        with open(svg, 'wb') as f:
            f.write(svg_bytes)
        subprocess.run(['rsvg-convert', '-w', '400', '-o', png, svg], check=True)
        r = subprocess.run(['zbarimg', '--quiet', '--raw', png], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        check(r.returncode == 0, 'zbarimg could not read the QR code: %s' % r.stderr)
        return r.stdout.rstrip('\n')


def test_web_phone_card_and_qr(ctx):
    """GET /extensions/{n}/phone gives the server the browser used, the SIP
    port, udp, the user and its password, and a phone registers with
    exactly those; qr.svg is a well-formed SVG whose code decodes to the
    card's URI; both are admin-only and never cached."""
    e = env(ctx)
    x = e.ext(name='QR phone')
    n, pw = x['number'], x['password']
    card = expect(e.admin.req('GET', '/api/v1/extensions/%s/phone' % n), 200, 'phone card').json()
    check(card['server'] == LOCAL and card['port'] == e.d.sip_port and card['transport'] == 'udp'
          and card['user'] == n and card['password'] == pw, 'card: %r' % card)
    want = 'sip:%s:%s@%s:%d;transport=udp' % (n, pw, LOCAL, e.d.sip_port)
    check(card['uri'] == want and card['qr'] == '/api/v1/extensions/%s/qr.svg' % n, 'card: %r' % card)
    f = register(e.d, card['user'], card['password'])
    check(f is not None and f.status == 200, 'REGISTER with the card: %r' % f)
    r = expect(e.admin.req('GET', card['qr']), 200, 'qr.svg')
    check(r.header('content-type') == 'image/svg+xml', 'type %r' % r.header('content-type'))
    check(r.header('cache-control') == 'no-store', 'cache-control %r' % r.header('cache-control'))
    root = ET.fromstring(r.body)  # raises on a malformed document
    check(root.tag == SVG_NS + 'svg' and root.find(SVG_NS + 'path') is not None, 'svg: %r' % r.body[:200])
    side = int(root.get('width'))
    # version 3-6 at level M for a URI of ~60 characters: 29..41 modules + 8 quiet
    check(37 * 6 <= side <= 49 * 6, 'QR of %d px' % side)
    text = decode_qr(r.body)
    if text is None:
        print('# zbarimg/rsvg-convert missing: the QR code was not decoded')
    else:
        check(text == want, 'QR decodes to %r, want %r' % (text, want))
    # a user, or nobody, gets neither
    u = Api(e.d)
    expect(u.req('GET', card['qr']), 401, 'qr.svg without login')
    expect(u.req('GET', '/api/v1/extensions/%s/phone' % n), 401, 'card without login')
    expect(e.admin.req('GET', '/api/v1/extensions/9999/qr.svg'), 404, 'qr of no extension')


def test_web_phone_card_external_address(ctx):
    """With sip.external_address saved the card and the QR name it, not
    the host the browser used."""
    e = env(ctx)
    n = e.ext()['number']
    expect(e.admin.req('PUT', '/api/v1/settings', {'sip.external_address': '203.0.113.7'}), 200,
           'set external address')
    try:
        # a restart setting: the running one is what phones are told
        card = expect(e.admin.req('GET', '/api/v1/extensions/%s/phone' % n), 200, 'card').json()
        check(card['server'] == LOCAL, 'the card used a setting not in effect yet: %r' % card)
    finally:
        expect(e.admin.req('PUT', '/api/v1/settings', {'sip.external_address': ''}), 200, 'reset')


def test_web_password_reveal(ctx):
    """GET /extensions/{n}/secret shows the current password to an admin
    (after a new one: the new one), is refused to a user, and the reveal
    is logged without the password."""
    e = env(ctx)
    x = e.ext()
    n = x['number']
    s = expect(e.admin.req('GET', '/api/v1/extensions/%s/secret' % n), 200, 'reveal').json()
    check(s == {'number': n, 'password': x['password']}, 'reveal: %r' % s)
    new = expect(e.admin.req('POST', '/api/v1/extensions/%s/password' % n), 200, 'new').json()['password']
    s = expect(e.admin.req('GET', '/api/v1/extensions/%s/secret' % n), 200, 'reveal').json()
    check(s['password'] == new, 'reveal after a new password: %r' % s)
    expect(e.admin.req('POST', '/api/v1/users', {'username': 'revealuser', 'password': 'reveal-user-pw-1',
                                                 'extension': n}), 201, 'user')
    u = Api(e.d)
    expect(u.login('revealuser', 'reveal-user-pw-1'), 200, 'user login')
    expect_error(u.req('GET', '/api/v1/extensions/%s/secret' % n), 403, None, 'user reveal')
    expect_error(u.req('GET', '/api/v1/extensions/%s/phone' % n), 403, None, 'user card')
    log = e.d.log()
    check('SIP password revealed to admin' in log, 'the reveal is not logged')
    check(new not in log and x['password'] not in log, 'a password is in the log')


def test_web_settings_groups_sources(ctx):
    """Each setting has a group (basic/advanced), a plain label and where
    its value comes from: a flag given at start is "file", one saved by
    the web "web", the rest "default"."""
    e = env(ctx)
    doc = expect(e.admin.req('GET', '/api/v1/settings'), 200, 'settings').json()
    sch = doc['schema']
    check(all(d['group'] in ('basic', 'advanced') and d['label'] for d in sch.values()), 'groups: %r' % sch)
    for k in ('sip.udp_port', 'sip.external_address', 'calls.codecs', 'email.smtp_url', 'http.https_port'):
        check(sch[k]['group'] == 'basic', '%s: %r' % (k, sch[k]))
    check(sch['registrar.min_expires']['group'] == 'advanced', 'min_expires is basic')
    check(sch['sip.external_address']['label'] == 'Public address (behind NAT)', sch['sip.external_address'])
    # WebEnv starts the daemon with --auth-fail-limit 200
    check(sch['security.auth_fail_limit']['source'] == 'file', sch['security.auth_fail_limit'])
    check(sch['registrar.default_expires']['source'] == 'default', sch['registrar.default_expires'])
    expect(e.admin.req('PUT', '/api/v1/settings', {'registrar.default_expires': 1800}), 200, 'save')
    sch = expect(e.admin.req('GET', '/api/v1/settings'), 200, 'settings').json()['schema']
    check(sch['registrar.default_expires']['source'] == 'web', sch['registrar.default_expires'])


def test_web_timezone(ctx):
    """GET /timezone (any logged-in user) names the zone the daemon's
    clock uses, with its current offset."""
    e = env(ctx)
    expect(Api(e.d).req('GET', '/api/v1/timezone'), 401, 'timezone without login')
    tz = expect(e.admin.req('GET', '/api/v1/timezone'), 200, 'timezone').json()
    check(isinstance(tz['timezone'], str) and tz['timezone'], 'zone: %r' % tz)
    check(tz['utc_offset_s'] == time.localtime().tm_gmtoff or 'TZ' in os.environ, 'offset: %r' % tz)


def test_cli_times_and_durations(ctx):
    """`hookflash cdr` writes durations in the one format the web uses
    (298 s: "4m 58s", 3720 s: "1h 02m") and names the zone of its times,
    the same the web's GET /timezone names."""
    e = env(ctx)
    a = e.ext(name='Durations')['number']
    now = int(time.time() * 1000)
    base = {'answer_ms': now - 298000, 'hangup_status': 200, 'codec': 'PCMU/8000', 'callee': '1001',
            'disposition': 'ANSWERED', 'end_ms': now}
    insert_cdrs(e.d, [dict(base, caller=a, start_ms=now - 300000, duration_s=300, billsec=298),
                      dict(base, caller=a, start_ms=now - 3725000, duration_s=3725, billsec=3720)])
    _, out, _ = hf.cli(e.d.data_dir, 'cdr', '--number', a)
    check('4m 58s' in out and '5m 00s' in out and '1h 02m' in out, '`hookflash cdr`:\n%s' % out)
    zone = expect(e.admin.req('GET', '/api/v1/timezone'), 200, 'timezone').json()['timezone']
    check(out.rstrip('\n').endswith('(times in %s)' % zone), 'the CLI does not name the zone %s:\n%s' % (zone, out))


TESTS = [
    test_web_phone_card_and_qr,
    test_web_phone_card_external_address,
    test_web_password_reveal,
    test_web_settings_groups_sources,
    test_web_timezone,
    test_cli_times_and_durations,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
