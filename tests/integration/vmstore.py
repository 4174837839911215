#!/usr/bin/env python3
"""
Voicemail storage as the administrator sees it: PINs through the policy
in the `hookflash` tool (a weak one refused with its reason, a generated
one printed once and stored only as a hash) and in the REST API (400
naming vm_pin), the mailbox settings from both, and `hookflash voicemail
list/show/unlock/set`. Messages and locks that only the voicemail app
makes are written into the database behind the tool's back, as that app
will write them.

Run with the other integration tests (tests/integration/run.py includes
TESTS) or alone:

    python3 tests/integration/vmstore.py [-v] [-k SUBSTRING]
"""
import os
import re
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf  # noqa: E402
from hf import check  # noqa: E402
from webkit import env, expect, expect_error  # noqa: E402

RUN_REASON = 'a run of digits (like 123456, 987654 or 890123) is easy to guess'


def db_exec(d, sql, params=()):
    con = sqlite3.connect(os.path.join(d.data_dir, 'hookflash.db'), timeout=10)
    try:
        cur = con.execute(sql, params)
        rows = cur.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def vm_rows(out):
    """`hookflash voicemail list` as dicts keyed by its header."""
    lines = out.splitlines()
    head = ['MAILBOX', 'NEW', 'OLD', 'LOCKED UNTIL', 'EMAIL', 'ENABLED', 'PIN']
    check(lines and re.split(r'\s{2,}', lines[0].strip()) == head, 'voicemail list header:\n%s' % out)
    return {c[0]: dict(zip(head, c)) for c in (re.split(r'\s{2,}', l.strip()) for l in lines[1:] if l.strip())}


def test_vm_cli_pin_policy(ctx):
    """`extension add --pin 123456` fails with exit 1 and the policy's
    reason, storing nothing; without --pin a PIN is generated, printed
    once (never again, not in the database); `extension set --pin`
    refuses weak and empty PINs with their reasons and takes a good one."""
    d = ctx.daemon()
    n = str(ctx.next_ext)
    ctx.next_ext += 1
    pw = 'pw-' + n + '-abcdefgh'
    rc, out, err = hf.cli(d.data_dir, 'extension', 'add', n, '--password', pw, '--pin', '123456',
                          check_rc=False)
    check(rc == 1 and err == 'hookflash: --pin: %s\n' % RUN_REASON,
          'weak PIN on add: rc %d, stderr %r' % (rc, err))
    rc, out, _ = hf.cli(d.data_dir, 'extension', 'show', n, check_rc=False)
    check(rc == 1, 'the extension with a refused PIN was stored:\n%s' % out)

    _, out, _ = hf.cli(d.data_dir, 'extension', 'add', n, '--password', pw)
    pins = re.findall(r'^voicemail PIN for %s: ([0-9]+)$' % n, out, re.M)
    check(len(pins) == 1 and len(pins[0]) == 6, 'no generated PIN printed once:\n%s' % out)
    pin = pins[0]
    check('SIP password' not in out, 'a given password was printed:\n%s' % out)
    _, show, _ = hf.cli(d.data_dir, 'extension', 'show', n, '--show-password')
    check(re.search(r'voicemail PIN:\s+\(set\)', show) and pin not in show,
          '`extension show` after a generated PIN:\n%s' % show)
    dump = '\n'.join(str(r) for r in db_exec(d, 'SELECT * FROM mailboxes') + db_exec(d, 'SELECT * FROM extensions'))
    check(pin not in dump, 'the PIN is in the database in clear')
    check(db_exec(d, "SELECT pin_hash LIKE 'pbkdf2-sha256$%' FROM mailboxes WHERE mailbox = ?", (n,)) == [(1,)],
          'no PIN hash stored for %s' % n)

    for bad, why in (('111111', 'one digit repeated (like 111111) is the first PIN tried'),
                     ('121212', 'a short pattern repeated (like 121212 or 123123) is easy to guess'),
                     ('9' + n + '3', 'must not contain the extension number or be part of it'),
                     ('73051', 'at least 6 digits'),
                     ('', 'at least 6 digits'),
                     ('12ab56', 'digits only, at most 15')):
        rc, _, err = hf.cli(d.data_dir, 'extension', 'set', n, '--pin', bad, check_rc=False)
        check(rc == 1 and err == 'hookflash: --pin: %s\n' % why,
              'set --pin %r: rc %d, stderr %r, want the reason %r' % (bad, rc, err, why))
    before = db_exec(d, 'SELECT pin_hash FROM mailboxes WHERE mailbox = ?', (n,))
    _, out, _ = hf.cli(d.data_dir, 'extension', 'set', n, '--pin', '730519')
    check('PIN' not in out and '730519' not in out, 'set --pin printed the PIN:\n%s' % out)
    after = db_exec(d, 'SELECT pin_hash FROM mailboxes WHERE mailbox = ?', (n,))
    check(after != before and '730519' not in str(after), 'set --pin did not store a new hash')


def test_vm_cli_mailboxes(ctx):
    """`voicemail list` shows each mailbox's new/old counts, lock, e-mail;
    `voicemail show` its messages, new first; `voicemail unlock` lifts a
    lock; `voicemail set` stores e-mail and quotas and refuses bad ones."""
    d = ctx.daemon()
    n, _ = ctx.ext(d)
    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'list', n)
    rows = vm_rows(out)
    check(list(rows) == [n], 'list %s shows %r:\n%s' % (n, list(rows), out))
    r = rows[n]
    check((r['NEW'], r['OLD'], r['LOCKED UNTIL'], r['EMAIL'], r['ENABLED'], r['PIN']) ==
          ('0', '0', '-', '-', 'yes', 'set'), 'a new mailbox: %r' % r)

    now = int(time.time())
    for folder, at, caller, name, ms in (('old', now - 7200, '2999', 'Old Caller', 61000),
                                         ('new', now - 60, '+15551234567', '', 4400),
                                         ('new', now - 3600, '2998', 'Early Bird', 12000)):
        db_exec(d, 'INSERT INTO vm_messages (mailbox, folder, caller, caller_name, received_at,'
                   ' duration_ms, path) VALUES (?, ?, ?, ?, ?, ?, ?)',
                (n, folder, caller, name, at, ms, '/nowhere/%s/%d.wav' % (n, at)))
    until = now + 600
    db_exec(d, 'UPDATE mailboxes SET locked_until = ? WHERE mailbox = ?', (until, n))
    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'list')
    r = vm_rows(out).get(n)
    locked = time.strftime('%Y-%m-%d %H:%M', time.localtime(until))
    check(r and (r['NEW'], r['OLD'], r['LOCKED UNTIL']) == ('2', '1', locked),
          'list after 2 new, 1 old and a lock: %r\n%s' % (r, out))
    check('1001' in vm_rows(out), 'the full list lacks 1001:\n%s' % out)

    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'show', n)
    lines = out.splitlines()
    check(lines[0].startswith('mailbox %s: enabled, PIN set, locked until %s' % (n, locked)),
          'show header:\n%s' % out)
    body = [re.split(r'\s{2,}', l.strip()) for l in lines[2:] if l.strip()]
    check(re.split(r'\s{2,}', lines[1].strip()) == ['ID', 'FOLDER', 'CALLER', 'RECEIVED', 'DURATION'],
          'show table header:\n%s' % out)
    got = [(c[1], c[2], c[4]) for c in body]
    want = [('new', 'Early Bird <2998>', '12s'), ('new', '+15551234567', '4s'),
            ('old', 'Old Caller <2999>', '1m 01s')]
    check(got == want, 'messages %r, want %r:\n%s' % (got, want, out))

    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'unlock', n)
    check(out == 'mailbox %s unlocked\n' % n, 'unlock said %r' % out)
    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'list', n)
    check(vm_rows(out)[n]['LOCKED UNTIL'] == '-', 'still locked after unlock:\n%s' % out)

    rc, _, err = hf.cli(d.data_dir, 'voicemail', 'set', n, '--email', 'not-an-address', check_rc=False)
    check(rc == 1 and err == 'hookflash: --email: must look like name@example.com\n',
          'bad e-mail: rc %d, stderr %r' % (rc, err))
    rc, _, err = hf.cli(d.data_dir, 'voicemail', 'set', n, '--max-messages', '20000', check_rc=False)
    check(rc == 1 and '--max-messages' in err, 'max-messages 20000: rc %d, %r' % (rc, err))
    hf.cli(d.data_dir, 'voicemail', 'set', n, '--email', 'bob@example.com', '--email-delete', 'on',
           '--max-messages', '50', '--enabled', 'off')
    _, out, _ = hf.cli(d.data_dir, 'voicemail', 'list', n)
    r = vm_rows(out)[n]
    check((r['EMAIL'], r['ENABLED']) == ('bob@example.com', 'no'), 'after set: %r' % r)
    check(db_exec(d, 'SELECT email_delete, max_msgs FROM mailboxes WHERE mailbox = ?', (n,)) == [(1, 50)],
          'email_delete/max_msgs not stored')
    rc, _, err = hf.cli(d.data_dir, 'voicemail', 'show', '9999', check_rc=False)
    check(rc == 1 and err == 'hookflash: no extension 9999\n', 'show 9999: rc %d, %r' % (rc, err))

    # removing the extension removes the mailbox and its messages' rows
    hf.cli(d.data_dir, 'extension', 'remove', n)
    check(db_exec(d, 'SELECT count(*) FROM vm_messages WHERE mailbox = ?', (n,)) == [(0,)] and
          db_exec(d, 'SELECT count(*) FROM mailboxes WHERE mailbox = ?', (n,)) == [(0,)],
          'mailbox rows left after extension remove')


def test_vm_api_pin_and_mailbox(ctx):
    """POST/PUT /extensions with a weak vm_pin: 400 naming vm_pin with the
    reason, nothing stored; no vm_pin on create: one generated and shown
    in that answer only; vm_email (checked: 400 naming vm_email),
    vm_email_delete and vm_enabled stored and shown by the tool too."""
    e = env(ctx)
    a = e.admin
    n = e.number()
    j = expect_error(a.req('POST', '/api/v1/extensions', {'number': n, 'vm_pin': '123456'}),
                     400, 'vm_pin', 'weak vm_pin')
    check(j['error'] == 'pin: ' + RUN_REASON, 'weak vm_pin: %r' % j)
    expect(a.req('GET', '/api/v1/extensions/' + n), 404, 'nothing stored by a weak PIN')

    x = expect(a.req('POST', '/api/v1/extensions', {'number': n}), 201, 'create').json()
    pin = x.get('vm_pin')
    check(pin and re.fullmatch(r'[0-9]{6}', pin) and x.get('vm_pin_set') is True,
          'no generated vm_pin on create: %r' % x)
    check(x.get('vm_enabled') is True and x.get('vm_email') == '' and x.get('vm_email_delete') is False,
          'mailbox defaults: %r' % x)
    g = expect(a.req('GET', '/api/v1/extensions/' + n), 200, 'get').json()
    check('vm_pin' not in g and pin not in str(g), 'GET shows the PIN: %r' % g)

    for bad in ('121212', '111111', '', '9%s9' % n):
        expect_error(a.req('PUT', '/api/v1/extensions/' + n, {'vm_pin': bad}), 400, 'vm_pin',
                     'PUT vm_pin %r' % bad)
    expect_error(a.req('PUT', '/api/v1/extensions/' + n, {'vm_email': 'bob at example'}), 400,
                 'vm_email', 'bad vm_email')
    u = expect(a.req('PUT', '/api/v1/extensions/' + n,
                     {'vm_pin': '730519', 'vm_email': 'carol@example.com', 'vm_email_delete': True,
                      'vm_enabled': False}), 200, 'good vm fields').json()
    check((u['vm_email'], u['vm_email_delete'], u['vm_enabled'], u['vm_pin_set']) ==
          ('carol@example.com', True, False, True) and 'vm_pin' not in u, 'after PUT: %r' % u)
    _, out, _ = hf.cli(e.d.data_dir, 'voicemail', 'list', n)
    r = vm_rows(out)[n]
    check((r['EMAIL'], r['ENABLED'], r['PIN']) == ('carol@example.com', 'no', 'set'),
          'the tool after the API change: %r' % r)
    # the quotas the tool sets (voicemail set --max-messages/--max-seconds)
    u = expect(a.req('PUT', '/api/v1/extensions/' + n, {'vm_max_messages': 7, 'vm_max_seconds': 600}),
               200, 'quotas').json()
    check((u['vm_max_messages'], u['vm_max_seconds']) == (7, 600), 'quotas: %r' % u)
    rows = hf.db_query(e.d.data_dir, 'SELECT max_msgs, max_secs FROM mailboxes WHERE mailbox = ?', (n,))
    check(rows and (rows[0]['max_msgs'], rows[0]['max_secs']) == (7, 600), 'stored quotas: %r' % rows)
    expect_error(a.req('PUT', '/api/v1/extensions/' + n, {'vm_max_messages': -1}), 400, 'vm_max_messages',
                 'negative quota')
    expect(a.req('DELETE', '/api/v1/extensions/' + n), 204, 'delete')


TESTS = [
    test_vm_cli_pin_policy,
    test_vm_cli_mailboxes,
    test_vm_api_pin_and_mailbox,
]


if __name__ == '__main__':
    import run  # noqa: E402  (run.py's runner, with these tests)
    run.TESTS = TESTS
    sys.exit(run.guarded())
