#!/usr/bin/env python3
"""
Fails on an #include that points the wrong way between modules.

A module is a folder: core/base, core/sip, core/sdp, core/media (with its
sub-folders), core/ident, core/reg, core/mwi, core/call, core/ctl, core/pbx,
core/cli, db, web, apps (every app folder), common (apps/common, the code
apps share) and "main" for core/main*.c.
Every quoted #include is resolved against the including file's folder;
an include inside the same module is always fine. An edge between two
modules must be listed in ALLOWED below, and where NARROW names headers
for it, only those headers may be included. KNOWN lists single
file -> header includes that break the rules today and are to go.

    python3 tests/check_layers.py           check; exit 1 on a violation
    python3 tests/check_layers.py --graph   also print module -> module
                                            edges with include counts

Tests (tests/) are not checked: they may include what they test.
"""
import os
import re
import sys
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Who may include whom (base is below everything). apps and dialplan are
# listed ahead of time so a new app folder is checked from its first file.
ALLOWED = {
    'base': set(),
    'sip': {'base'},
    'sdp': {'base'},
    'media': {'base', 'sdp'},          # srtp.h takes SDES keys from sdp/sdes.h
    'db': {'base'},
    'mail': {'base'},                  # SMTP with libcurl, on a jobs thread
    'ident': {'base', 'sip', 'db'},    # extensions are read from db
    'reg': {'base', 'sip', 'ident', 'db'},  # bindings are saved through db/store
    # the call layer asks the routing seam where a call goes
    'call': {'base', 'sip', 'sdp', 'media', 'reg', 'ident', 'dialplan', 'db'},
    # the numbering plan is read from db; an extension's number routes
    # to it when the plan does not know it yet
    'dialplan': {'base', 'ident', 'db'},
    # apps see the call only through core/call/app.h, share apps/common,
    # and use the database only on the store thread (app_store)
    'apps': {'base', 'call', 'common', 'db'},
    # code the apps share (saying numbers, the prompt list): pure, so
    # any layer above base may use it
    'common': {'base'},
    # message waiting: SUBSCRIBE/NOTIFY dialogs, authenticated like
    # REGISTER, saved through db/store; the counts come from pbx
    'mwi': {'base', 'sip', 'ident', 'db'},
    'ctl': {'base', 'sip', 'reg', 'call', 'pbx'},
    'web': {'base', 'db', 'pbx'},
    'pbx': {'base', 'sip', 'sdp', 'media', 'ident', 'reg', 'dialplan', 'call', 'apps', 'common',
            'db', 'ctl', 'web', 'mail', 'mwi'},
    'cli': {'base', 'db', 'ctl'},
    'main': {'base', 'db', 'pbx'},
}

# For these edges only the named headers (paths from the top) are allowed.
NARROW = {
    ('ctl', 'pbx'): {'core/pbx/pbx_status.h'},
    # the web's queue to the loop, the snapshot it carries, and the pure
    # saved-settings function (any thread with a db connection)
    ('web', 'pbx'): {'core/pbx/pbx_web.h', 'core/pbx/pbx_status.h', 'core/pbx/pbx_settings.h'},
    ('cli', 'ctl'): {'core/ctl/ctl_proto.h'},
    ('apps', 'call'): {'core/call/app.h'},
    ('pbx', 'apps'): {'apps/apps.h'},
    # the prompts to prepare at start
    ('pbx', 'common'): {'apps/common/manifest.h'},
    ('main', 'pbx'): {'core/pbx/pbx.h'},
}

# Known exceptions, file -> header, each to be removed.
KNOWN = set()

SCANNED = ('core', 'db', 'web', 'apps')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(rel):
    """The module of a path relative to ROOT, or None outside the tree."""
    parts = rel.split('/')
    if parts[0] == 'core':
        if len(parts) == 2:
            return 'main' if parts[1].startswith('main') else None
        return parts[1]
    if parts[0] == 'apps' and len(parts) > 2 and parts[1] == 'common':
        return 'common'
    if parts[0] in ('db', 'web', 'apps'):
        return parts[0]
    return None


def scan():
    """Yields (file, header, from_module, to_module) for every quoted
    include between two files of the tree."""
    for top in SCANNED:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if not name.endswith(('.c', '.h')):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT)
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                for inc in INCLUDE.findall(text):
                    target = os.path.normpath(os.path.join(dirpath, inc))
                    if not os.path.exists(target):
                        continue  # generated or system header
                    trel = os.path.relpath(target, ROOT)
                    yield rel, trel, module_of(rel), module_of(trel)


def main():
    edges = Counter()
    bad = []
    for rel, trel, src, dst in scan():
        if src is None or dst is None or src == dst:
            continue
        edges[(src, dst)] += 1
        if (rel, trel) in KNOWN:
            continue
        if src not in ALLOWED:
            bad.append('%s: module %s is not in ALLOWED' % (rel, src))
        elif dst not in ALLOWED[src]:
            bad.append('%s includes %s: %s may not depend on %s' % (rel, trel, src, dst))
        elif (src, dst) in NARROW and trel not in NARROW[(src, dst)]:
            bad.append('%s includes %s: %s may use only %s of %s' %
                       (rel, trel, src, ', '.join(sorted(NARROW[(src, dst)])), dst))
    if '--graph' in sys.argv:
        for (src, dst), n in sorted(edges.items()):
            print('%-6s -> %-6s %3d' % (src, dst, n))
        # two-way pairs are fine only through a narrow header (the wiring
        # in pbx offering a front end the little it may call)
        for (src, dst) in sorted(edges):
            if src < dst and (dst, src) in edges:
                via = [e for e in ((src, dst), (dst, src)) if e in NARROW]
                print('two-way: %s <-> %s%s' % (src, dst, ''.join(
                    ' (%s -> %s only through %s)' % (a, b, ', '.join(sorted(NARROW[(a, b)])))
                    for a, b in via)))
    for b in bad:
        print('layer violation: ' + b, file=sys.stderr)
    if bad:
        print('%d layer violation(s); the allowed edges are in tests/check_layers.py'
              % len(bad), file=sys.stderr)
        return 1
    print('layers: %d module edges, %d includes, no violation'
          % (len(edges), sum(edges.values())))
    return 0


if __name__ == '__main__':
    sys.exit(main())
