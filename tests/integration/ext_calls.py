#!/usr/bin/env python3
"""
Per-extension call handling as the administrator sees it: the settings
(ring time, where unanswered, busy and unreachable calls go, call
forwarding, do-not-disturb) set and shown by the `hookflash` tool and the
REST API, each refused bad values with the same words (db_ext_validate's),
what one sets the other reads; and the feature codes of migration 6 in the
numbering plan. What the call layer does with the settings is tested with
the calls (calls.py).

Runs with the other integration tests (run.py includes TESTS) or alone:

    python3 tests/integration/ext_calls.py [-v] [-k SUBSTRING]

It uses the web tests' shared daemon (webkit.env); the tool edits that
daemon's database.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402
from webkit import env, expect, expect_error  # noqa: E402

PW = 'call-handling-pw-1'

# The rules in db_ext_validate's words: the tool says them after its
# option's name, the API after the field's.
RING_RULE = '0 (the default, 25 s) or 5 to 300 seconds'
DEST_RULE = "destination 'bogus' is not kind:id (e.g. ext:1001, app:echo) or hangup"
FWD_RULE = 'a number to dial, 1 to 31 of 0-9 * # +'

FEATURE_CODES = [
    ('*72', 'app:fwdon', 'feature code: call forward on'),
    ('*73', 'app:fwdoff', 'feature code: call forward off'),
    ('*78', 'app:dndon', 'feature code: do not disturb on'),
    ('*79', 'app:dndoff', 'feature code: do not disturb off'),
    ('*97', 'app:vmmain', 'feature code: own voicemail'),
    ('*98', 'app:vmany', 'feature code: any voicemail'),
]


def show(d, number):
    """`extension show` as {label: value}."""
    _, out, _ = hf.cli(d.data_dir, 'extension', 'show', number)
    rows = {}
    for line in out.splitlines():
        m = re.match(r'^(.+?:)\s{2,}(.*)$', line)
        if m:
            rows[m.group(1)] = m.group(2).rstrip()
    return rows, out


def list_row(d, number):
    """`extension list`'s row of number as {column: cell}, cut at the
    header's label positions."""
    _, out, _ = hf.cli(d.data_dir, 'extension', 'list')
    lines = out.splitlines()
    head = lines[0]
    names = head.split()
    starts = [head.index(n) for n in names]
    for line in lines[1:]:
        if line.split() and line.split()[0] == number:
            cells = [line[s:(starts[i + 1] if i + 1 < len(starts) else None)].strip()
                     for i, s in enumerate(starts)]
            return dict(zip(names, cells)), out
    raise hf.Failure('no row %s in `extension list`:\n%s' % (number, out))


def cli_refused(d, args, want_err, what):
    rc, out, err = hf.cli(d.data_dir, *args, check_rc=False)
    check(rc == 1 and err == 'hookflash: %s\n' % want_err,
          '%s: rc %d, stderr %r, want %r' % (what, rc, err, 'hookflash: %s\n' % want_err))


def test_ext_calls_cli(ctx):
    """`extension add/set` take every call handling option, `show` prints
    each (defaults in words), `list` has the FWD/DND column; a bad
    destination, ring time or a forward to itself is refused naming the
    option, and nothing is changed; the API reads what the tool set."""
    e = env(ctx)
    d = e.d
    n, other = e.number(), e.number()
    hf.cli(d.data_dir, 'extension', 'add', other, '--password', PW)
    hf.cli(d.data_dir, 'extension', 'add', n, '--password', PW, '--ring-time', '40',
           '--no-answer', 'ext:' + other, '--busy', 'hangup', '--unavailable', 'vm:' + n,
           '--forward', other, '--forward-busy', '*97', '--forward-no-answer', '+4930123', '--dnd', 'on')
    rows, out = show(d, n)
    want = {'ring time:': '40 s', 'no answer:': 'ext:' + other, 'busy:': 'hangup',
            'unavailable:': 'vm:' + n, 'forward always:': other, 'forward if busy:': '*97',
            'forward if no answer:': '+4930123', 'do not disturb:': 'on'}
    for k, v in want.items():
        check(rows.get(k) == v, '`extension show` %s %r, want %r:\n%s' % (k, rows.get(k), v, out))
    row, out = list_row(d, n)
    check(row.get('FWD/DND') == 'dnd, fwd %s, fwd-busy *97, fwd-no-answer +4930123' % other,
          '`extension list` FWD/DND:\n%s' % out)
    row, out = list_row(d, other)
    check(row.get('FWD/DND') == '', 'FWD/DND of a plain extension:\n%s' % out)

    # the API reads the same row
    j = expect(e.admin.req('GET', '/api/v1/extensions/' + n), 200, 'get').json()
    check((j['ring_time'], j['no_answer'], j['busy'], j['unavailable'], j['forward_all'],
           j['forward_busy'], j['forward_no_answer'], j['dnd'])
          == (40, 'ext:' + other, 'hangup', 'vm:' + n, other, '*97', '+4930123', True),
          'API after the tool: %r' % j)

    # refused, naming the option, with db_ext_validate's rule
    cli_refused(d, ('extension', 'set', n, '--no-answer', 'bogus'), '--no-answer: ' + DEST_RULE,
                'bad destination')
    cli_refused(d, ('extension', 'set', n, '--unavailable', 'ext:' + n),
                '--unavailable: ext:%s is this extension itself (its voicemail is the default)' % n,
                'destination to itself')
    cli_refused(d, ('extension', 'set', n, '--ring-time', '3'), '--ring-time: ' + RING_RULE,
                'ring time 3')
    cli_refused(d, ('extension', 'set', n, '--ring-time', 'long'), '--ring-time: ' + RING_RULE,
                'ring time long')
    cli_refused(d, ('extension', 'set', n, '--forward', n),
                '--forward: cannot forward extension %s to itself' % n, 'forward to itself')
    cli_refused(d, ('extension', 'set', n, '--forward-no-answer', 'sip:x'), '--forward-no-answer: ' + FWD_RULE,
                'forward to a URI')
    cli_refused(d, ('extension', 'set', n, '--dnd', 'maybe'), '--dnd: on or off', 'dnd maybe')
    cli_refused(d, ('extension', 'add', e.number(), '--password', PW, '--busy', 'bogus'),
                '--busy: ' + DEST_RULE, 'add with a bad destination')
    rows2, out2 = show(d, n)
    check(rows2 == rows, 'a refused change changed something:\n%s\n%s' % (out, out2))

    # back to the defaults, shown as such
    hf.cli(d.data_dir, 'extension', 'set', n, '--no-forward', '--dnd', 'off', '--ring-time', '0',
           '--no-answer', '', '--busy', '', '--unavailable', '')
    rows, out = show(d, n)
    want = {'ring time:': '25 s (default)', 'no answer:': '(default: voicemail)',
            'busy:': '(default: voicemail)', 'unavailable:': '(default: voicemail)',
            'forward always:': '(off)', 'forward if busy:': '(off)', 'forward if no answer:': '(off)',
            'do not disturb:': 'off'}
    for k, v in want.items():
        check(rows.get(k) == v, 'after the reset, %s %r, want %r:\n%s' % (k, rows.get(k), v, out))
    rc, out, err = hf.cli(d.data_dir, 'extension', 'set', n, '--no-forward', '--forward', other,
                          check_rc=False)
    check(rc == 2 and 'exclude each other' in err, '--no-forward with --forward: rc %d %r' % (rc, err))
    for x in (n, other):
        hf.cli(d.data_dir, 'extension', 'remove', x)


def test_ext_calls_api(ctx):
    """The REST API sets the same fields, refuses the same values with 400
    naming the field and the tool's rule, stores nothing refused, and
    the tool shows what the API set."""
    e = env(ctx)
    a = e.admin
    other = e.ext()['number']
    body = {'ring_time': 60, 'no_answer': 'ext:' + other, 'busy': 'vm:' + other, 'unavailable': 'hangup',
            'forward_all': '', 'forward_busy': other, 'forward_no_answer': '*98', 'dnd': True}
    x = e.ext(**body)
    n = x['number']
    for k, v in body.items():
        check(x.get(k) == v, 'created %s=%r, want %r: %r' % (k, x.get(k), v, x))
    fresh = a.req('GET', '/api/v1/extensions/' + other).json()
    check((fresh['ring_time'], fresh['no_answer'], fresh['forward_all'], fresh['dnd']) == (0, '', '', False),
          'defaults of a new extension: %r' % fresh)

    path = '/api/v1/extensions/' + n
    bad = [({'no_answer': 'bogus'}, 'no_answer', 'no_answer: ' + DEST_RULE),
           ({'busy': 'ext:' + n}, 'busy', 'busy: ext:%s is this extension itself (its voicemail is the default)' % n),
           ({'ring_time': 3}, 'ring_time', 'ring_time: ' + RING_RULE),
           ({'ring_time': 301}, 'ring_time', 'ring_time: ' + RING_RULE),
           ({'ring_time': 'long'}, 'ring_time', 'ring_time: ' + RING_RULE),
           ({'forward_all': n}, 'forward_all', 'forward_all: cannot forward extension %s to itself' % n),
           ({'forward_no_answer': 'sip:x'}, 'forward_no_answer', 'forward_no_answer: ' + FWD_RULE),
           ({'dnd': 'yes'}, 'dnd', None)]
    for b, field, msg in bad:
        j = expect_error(a.req('PATCH', path, b), 400, field, 'PATCH %r' % b)
        check(msg is None or j['error'] == msg, 'PATCH %r: error %r, want %r' % (b, j['error'], msg))
    j = expect_error(a.req('POST', '/api/v1/extensions', {'number': e.number(), 'forward_busy': '12a'}),
                     400, 'forward_busy', 'create with a bad forward')
    check(j['error'] == 'forward_busy: ' + FWD_RULE, 'create: %r' % j)
    now = expect(a.req('GET', path), 200, 'get').json()
    for k, v in body.items():
        check(now.get(k) == v, 'a refused change stored %s=%r: %r' % (k, now.get(k), now))

    u = expect(a.req('PATCH', path, {'ring_time': 0, 'no_answer': '', 'forward_all': other, 'dnd': False}),
               200, 'change').json()
    check((u['ring_time'], u['no_answer'], u['forward_all'], u['dnd'], u['busy']) == (0, '', other, False, 'vm:' + other),
          'after PATCH: %r' % u)
    rows, out = show(e.d, n)
    check(rows.get('ring time:') == '25 s (default)' and rows.get('no answer:') == '(default: voicemail)'
          and rows.get('forward always:') == other and rows.get('busy:') == 'vm:' + other
          and rows.get('do not disturb:') == 'off', '`extension show` after the API:\n%s' % out)
    for x in (n, other):
        expect(a.req('DELETE', '/api/v1/extensions/' + x), 204, 'delete')


def test_ext_calls_feature_codes(ctx):
    """`hookflash numbers` and GET /api/v1/numbers list the six feature
    codes of call forwarding, do-not-disturb and voicemail."""
    e = env(ctx)
    _, out, _ = hf.cli(e.d.data_dir, 'numbers')
    lines = out.splitlines()
    check(lines and lines[0].split() == ['NUMBER', 'DESTINATION', 'WHAT'], 'numbers header:\n%s' % out)
    rows = [tuple(re.split(r'\s{2,}', l.strip(), maxsplit=2)) for l in lines[1:] if l.strip()]
    for fc in FEATURE_CODES:
        check(fc in rows, '%s not in `hookflash numbers`:\n%s' % (fc[0], out))
    plan = expect(e.admin.req('GET', '/api/v1/numbers'), 200, 'numbers').json()['numbers']
    for number, dest, what in FEATURE_CODES:
        check({'number': number, 'dest': dest, 'what': what} in plan, '%s not in /api/v1/numbers: %r' % (number, plan))


TESTS = [
    test_ext_calls_cli,
    test_ext_calls_api,
    test_ext_calls_feature_codes,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
