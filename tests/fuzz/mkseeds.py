#!/usr/bin/env python3
"""Writes the hand-made seeds of the call, api and ctl harnesses into
tests/fuzz/seeds/{call,api,ctl}/ (the fuzzers' corpora grow from these,
then are minimised with -merge=1 into the same folders). fuzz_call's
format: messages separated by NUL, each led by a control byte (low 3
bits: phone A=0 B1=1 B2=2 C=3 E=4; the rest: 100 ms clock steps before
it), with $V $B $C $F $T $N standing for what the PBX last sent to that
phone (see fuzz_call.c). Run from anywhere: python3 tests/fuzz/mkseeds.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
H = '192.0.2.100'

SDP_A = ('v=0\r\no=a 1 1 IN IP4 192.0.2.11\r\ns=-\r\nc=IN IP4 192.0.2.11\r\nt=0 0\r\n'
         'm=audio 10000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n'
         'a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n')
SDP_B = ('v=0\r\no=b1 1 1 IN IP4 192.0.2.21\r\ns=-\r\nc=IN IP4 192.0.2.21\r\nt=0 0\r\n'
         'm=audio 20000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n'
         'a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n')


def ctl(phone, steps=0):
    return bytes([0x80 | (steps << 3) | phone])  # never NUL, the separator


def body(sdp, ctype='application/sdp'):
    if sdp is None:
        return 'Content-Length: 0\r\n\r\n'
    return 'Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s' % (ctype, len(sdp), sdp)


def a_req(method, cseq, totag='', branch='z9hG4bK-a1', extra='', sdp=None, ruri='sip:1002@' + H,
          callid='call-1@192.0.2.11'):
    to = '<sip:1002@%s>%s' % (H, (';tag=' + totag) if totag else '')
    return ('%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.11:5060;branch=%s;rport\r\n'
            'Max-Forwards: 70\r\nFrom: <sip:1001@%s>;tag=a-from-1\r\nTo: %s\r\n'
            'Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:1001@192.0.2.11:5060>\r\n%s%s'
            % (method, ruri, branch, H, to, callid, cseq, method, extra, body(sdp)))


def b_resp(status, reason, method='INVITE', sdp=None, extra=''):
    return ('SIP/2.0 %d %s\r\nVia: $V\r\nFrom: <sip:1001@%s>;tag=$F\r\n'
            'To: <sip:1002@192.0.2.21>;tag=b1-tag\r\nCall-ID: $C\r\nCSeq: $N %s\r\n'
            'Contact: <sip:1002@192.0.2.21:5060>\r\n%s%s'
            % (status, reason, H, method, extra, body(sdp)))


def b_req(method, cseq, sdp=None, extra=''):
    return ('%s sip:pbx@%s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bK-b%d\r\n'
            'Max-Forwards: 70\r\nFrom: <sip:1002@192.0.2.21>;tag=b1-tag\r\n'
            'To: <sip:1001@%s>;tag=$F\r\nCall-ID: $C\r\nCSeq: %d %s\r\n'
            'Contact: <sip:1002@192.0.2.21:5060>\r\n%s%s'
            % (method, H, cseq, H, cseq, method, extra, body(sdp)))


def script(*msgs):
    return b'\0'.join(c + m.encode() for c, m in msgs)


def call_seeds():
    inv = (ctl(0), a_req('INVITE', 1, sdp=SDP_A))
    ringing = (ctl(1, 1), b_resp(180, 'Ringing'))
    ok = (ctl(1, 2), b_resp(200, 'OK', sdp=SDP_B))
    ack = (ctl(0), a_req('ACK', 1, totag='$T', branch='z9hG4bK-a2'))
    bye_a = (ctl(0, 5), a_req('BYE', 2, totag='$T', branch='z9hG4bK-a3'))
    bye_b = (ctl(1, 5), b_req('BYE', 10))
    reinv_a = (ctl(0, 3), a_req('INVITE', 3, totag='$T', branch='z9hG4bK-a4',
                                sdp=SDP_A.replace('sendrecv', 'sendonly')))
    ack3 = (ctl(0), a_req('ACK', 3, totag='$T', branch='z9hG4bK-a5'))
    cancel = (ctl(0, 2), a_req('CANCEL', 1))
    prack_inv = (ctl(0), a_req('INVITE', 1, sdp=SDP_A, extra='Supported: 100rel\r\n'))
    rel180 = (ctl(1, 1), b_resp(183, 'Session Progress', sdp=SDP_B, extra='Require: 100rel\r\nRSeq: 1\r\n'))
    prack = (ctl(0), a_req('PRACK', 2, totag='$T', branch='z9hG4bK-a6', extra='RAck: 1 1 INVITE\r\n'))
    busy = (ctl(1, 1), b_resp(486, 'Busy Here'))
    ack_busy = (ctl(0), a_req('ACK', 1, totag='$T'))
    reinv_b = (ctl(1, 3), b_req('INVITE', 11, sdp=SDP_B.replace('sendrecv', 'inactive')))
    ack_b = (ctl(1), b_req('ACK', 11))
    info = (ctl(0, 1), a_req('INFO', 4, totag='$T', branch='z9hG4bK-a7',
                             sdp='Signal=5\r\nDuration=160\r\n').replace(
        'application/sdp', 'application/dtmf-relay'))
    upd = (ctl(0, 1), a_req('UPDATE', 5, totag='$T', branch='z9hG4bK-a8', sdp=SDP_A))
    reg = (ctl(0), 'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bK-r1\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:1001@%s>;tag=r1\r\nTo: <sip:1001@%s>\r\n'
           'Call-ID: reg-1@192.0.2.11\r\nCSeq: 1 REGISTER\r\nContact: <sip:1001@192.0.2.11:5060>\r\n'
           'Expires: 600\r\nContent-Length: 0\r\n\r\n' % (H, H, H))
    opts = (ctl(3), 'OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.31:5060;branch=z9hG4bK-o1\r\n'
            'Max-Forwards: 70\r\nFrom: <sip:1003@%s>;tag=o1\r\nTo: <sip:%s>\r\n'
            'Call-ID: opt-1@192.0.2.31\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' % (H, H, H))
    e_inv = (ctl(4), a_req('INVITE', 1, sdp=SDP_A).replace('192.0.2.11', '192.0.2.15')
             .replace('1001@', '1005@'))
    e_auth = (ctl(4, 1), a_req('INVITE', 2, sdp=SDP_A, extra=
              'Authorization: Digest username="1005", realm="hookflash", nonce="$T", '
              'uri="sip:1002@192.0.2.100", response="00000000000000000000000000000000"\r\n')
              .replace('192.0.2.11', '192.0.2.15').replace('1001@', '1005@'))
    return {
        'basic_call_a_hangs_up': script(inv, ringing, ok, ack, bye_a),
        'basic_call_b_hangs_up': script(inv, ringing, ok, ack, bye_b),
        'reinvite_hold': script(inv, ok, ack, reinv_a, ack3, bye_a),
        'reinvite_from_callee': script(inv, ok, ack, reinv_b, ack_b, bye_b),
        'cancel_while_ringing': script(inv, ringing, cancel, ack_busy),
        'prack_reliable_183': script(prack_inv, rel180, prack, ok, ack, bye_a),
        'callee_busy': script(inv, busy, ack_busy),
        'no_ack_timeout': script(inv, ok),
        'info_and_update': script(inv, ok, ack, info, upd, bye_a),
        'register_then_call': script(reg, inv, ok, ack, bye_a),
        'options': script(opts),
        'digest_caller': script(e_inv, e_auth),
        'to_disabled_ext': script((ctl(0), a_req('INVITE', 1, sdp=SDP_A, ruri='sip:1004@' + H))),
        'to_echo_app': script((ctl(0), a_req('INVITE', 1, sdp=SDP_A, ruri='sip:*43@' + H)), ack, bye_a),
        'bye_without_dialog': script(bye_a),
        'ack_before_ok': script(inv, ack, ok, ack, bye_a),
    }


def api_seeds():
    sel = {'ext_create': 0, 'ext_put': 1, 'ext_patch': 2, 'users_create': 3, 'users_update': 4,
           'password': 5, 'tokens': 6, 'vm_msg': 7, 'email_test': 8, 'settings': 9}
    s = {
        'ext_create': {'number': '2001', 'name': 'Zed', 'enabled': True, 'codecs': 'PCMU,opus',
                       'srtp': 'optional', 'ring_time': 20, 'no_answer': 'voicemail',
                       'vm_pin': '4826', 'max_calls': 2, 'trust': '192.0.2.0/24'},
        'ext_put': {'name': 'Alice B', 'enabled': False, 'forward_all': '1002', 'busy': 'hangup'},
        'ext_patch': {'vm_enabled': True, 'vm_email': 'a@example.org', 'vm_email_delete': False,
                      'password': 'Longenough-123'},
        'users_create': {'username': 'bob', 'password': 'Sufficiently-long-9', 'role': 'user',
                         'extension': '1001'},
        'users_update': {'role': 'admin', 'password': 'Another-long-pass-7'},
        'password': {'current': 'x', 'password': 'New-password-123'},
        'tokens': {'name': 'ci', 'expires_days': 30},
        'vm_msg': {'folder': 'Old', 'read': True},
        'email_test': {'to': 'admin@example.org'},
        'settings': {'sip.udp_port': 5070, 'rtp.port_min': 20000, 'call.ring_time': '30',
                     'email.smtp_url': 'smtp://127.0.0.1:25', 'log.level': 'debug'},
    }
    out = {k: bytes([sel[k]]) + json.dumps(v).encode() for k, v in s.items()}
    out['ext_create_bad_types'] = bytes([0]) + b'{"number": 12, "name": null, "enabled": "yes"}'
    out['not_json'] = bytes([1]) + b'{"name": "x",'
    out['array'] = bytes([6]) + b'[1,2,3]'
    return out


def ctl_seeds():
    cmds = ['status', 'registrations', 'bans', 'unban 192.0.2.9', 'reload', 'trace on',
            'trace off', 'loglevel debug', 'loglevel nope', 'calls', 'hangup 1', 'hangup 99',
            'hangup x', 'email test a@example.org', 'email test a@example.org /tmp/f',
            'email test none@example.org', 'email test nobody', 'mwi notify 1001',
            'mwi notify 9', 'frobnicate', '']
    out = {}
    for i, c in enumerate(cmds):
        out['cmd%02d' % i] = bytes([3]) + (c + '\n').encode()
    out['crlf'] = b'\x00status\r\n'
    out['long'] = b'\x10' + b'status' + b' ' * 600 + b'\n'
    return out


def main():
    for name, seeds in (('call', call_seeds()), ('api', api_seeds()), ('ctl', ctl_seeds())):
        d = os.path.join(HERE, 'seeds', name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, k), 'wb') as f:
                f.write(v)
        print('%s: %d seeds in %s' % (name, len(seeds), d))


if __name__ == '__main__':
    main()
