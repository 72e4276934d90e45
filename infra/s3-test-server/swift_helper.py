#!/usr/bin/python3
"""Helpers for start.sh: free ports, rings, readiness. Runs under Debian's /usr/bin/python3 (Swift's own)."""
import datetime
import hashlib
import hmac
import http.client
import socket
import sys
import time


def free_ports(count):
    """Binds `count` sockets to port 0 at once so the ports are distinct, then releases them."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(('127.0.0.1', 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def build_rings(etc_dir, account_port, container_port, object_port):
    """One replica, one device d1 per ring, min_part_hours 0 (= swift-ring-builder create 8 1 0; add; rebalance).
    With a single device every partition lives on d1, so rebuilding with new ports keeps all data reachable."""
    from swift.common.ring import RingBuilder
    for name, port in (('account', account_port), ('container', container_port), ('object', object_port)):
        builder = RingBuilder(8, 1, 0)
        builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port,
                         'device': 'd1', 'weight': 1.0, 'meta': ''})
        builder.rebalance()
        builder.save('%s/%s.builder' % (etc_dir, name))
        builder.get_ring().save('%s/%s.ring.gz' % (etc_dir, name))


def healthcheck_ok(port):
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=2)
        conn.request('GET', '/healthcheck')
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def signed_list_buckets_status(port, access_key, secret_key, region):
    """S3 ListBuckets signed with SigV4: proves s3api + tempauth + account server answer, not just the proxy."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime('%Y%m%dT%H%M%SZ')
    day = now.strftime('%Y%m%d')
    host = '127.0.0.1:%d' % port
    empty_sha = hashlib.sha256(b'').hexdigest()
    signed_headers = 'host;x-amz-content-sha256;x-amz-date'
    canonical = '\n'.join(['GET', '/', '', 'host:' + host, 'x-amz-content-sha256:' + empty_sha,
                           'x-amz-date:' + amz_date, '', signed_headers, empty_sha])
    scope = '%s/%s/s3/aws4_request' % (day, region)
    to_sign = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ('AWS4' + secret_key).encode()
    for part in (day, region, 's3', 'aws4_request'):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        'Host': host,
        'x-amz-date': amz_date,
        'x-amz-content-sha256': empty_sha,
        'Authorization': 'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s'
                         % (access_key, scope, signed_headers, signature),
    }
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
        conn.request('GET', '/', headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status
    except OSError:
        return None


def wait_ready(proxy_port, backend_ports, access_key, secret_key, region, timeout_s):
    deadline = time.monotonic() + timeout_s
    pending = [proxy_port] + backend_ports
    while pending and time.monotonic() < deadline:
        pending = [p for p in pending if not healthcheck_ok(p)]
        if pending:
            time.sleep(0.1)
    if pending:
        print('no /healthcheck answer from port(s) %s within %ss' % (', '.join(map(str, pending)), timeout_s))
        return 1
    status = None
    while time.monotonic() < deadline:
        status = signed_list_buckets_status(proxy_port, access_key, secret_key, region)
        if status == 200:
            return 0
        time.sleep(0.2)
    print('the S3 side did not accept a signed ListBuckets within %ss (last HTTP status: %s)' % (timeout_s, status))
    return 1


def main(argv):
    command = argv[1] if len(argv) > 1 else ''
    if command == 'free-ports':
        print(' '.join(map(str, free_ports(int(argv[2])))))
        return 0
    if command == 'port-free':
        return 0 if port_is_free(int(argv[2])) else 1
    if command == 'build-rings':
        build_rings(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
        return 0
    if command == 'wait-ready':
        # wait-ready PROXY_PORT "BACKEND_PORTS" ACCESS_KEY SECRET_KEY REGION TIMEOUT_S
        return wait_ready(int(argv[2]), [int(p) for p in argv[3].split()], argv[4], argv[5], argv[6], float(argv[7]))
    print('usage: swift_helper.py free-ports N | port-free PORT | build-rings ETC A C O | '
          'wait-ready PROXY "BACKENDS" KEY SECRET REGION TIMEOUT_S', file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
