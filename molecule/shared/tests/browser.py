"""Moodle's iframe, for real: the Moodle stand-in serves, from an HTTPS origin of its own, the
page Moodle's mod/lti/launch.php serves (a form with the signed LTI fields, auto-submitted into
an iframe), and headless Chromium (Debian's, driven by Playwright) opens it from the controller."""
import datetime
import html
import json
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import sync_playwright

CHROMIUM = '/usr/bin/chromium'
PAGES = '/srv/lti'
# JupyterLab's shell, present once the application has loaded and laid itself out.
LAB_SHELL = '#main.jp-LabShell'
SERVER = ('import functools, http.server, ssl\n'
          'handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=%r)\n'
          'server = http.server.ThreadingHTTPServer(("0.0.0.0", 443), handler)\n'
          'context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n'
          'context.load_cert_chain("/srv/site.crt", "/srv/site.key")\n'
          'server.socket = context.wrap_socket(server.socket, server_side=True)\n'
          'server.serve_forever()\n' % PAGES)


def docker(*argv, **kwargs):
    return subprocess.run(('docker',) + argv, check=True, capture_output=True, text=True, **kwargs).stdout


def serve_origins(standin, names):
    """An HTTPS server on the stand-in for the given names (one self-signed certificate); its address."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (('site.crt', cert.public_bytes(serialization.Encoding.PEM)),
                           ('site.key', key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))):
            with open(os.path.join(tmp, name), 'wb') as f:
                f.write(data)
            docker('cp', os.path.join(tmp, name), '%s:/srv/%s' % (standin, name))
    docker('exec', standin, 'mkdir', '-p', PAGES)
    docker('exec', standin, 'sh', '-c', 'pkill -f "[T]hreadingHTTPServer" || true')
    docker('exec', '-d', standin, 'python3', '-c', SERVER)
    # Its address on Docker's default bridge (on multihub it is also on the dual-stack network).
    return docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', standin).strip()


def launch_page(standin, name, action, fields):
    """What Moodle's launch.php sends the browser: the signed form, posted into an iframe at once."""
    inputs = ''.join('<input type="hidden" name="%s" value="%s">' % (html.escape(k), html.escape(v))
                     for k, v in sorted(fields.items()))
    page = ('<!doctype html><html><head><title>Moodle course</title></head><body><h1>Course</h1>'
            '<form id="ltiLaunchForm" method="post" target="contentframe" action="%s">%s</form>'
            '<iframe name="contentframe" id="contentframe" style="width:1200px;height:700px"></iframe>'
            '<script>document.getElementById("ltiLaunchForm").submit();</script></body></html>'
            % (html.escape(action), inputs))
    docker('exec', '-i', standin, 'sh', '-c', 'cat > %s/%s' % (PAGES, name), input=page)


def open_in_iframe(origin_url, address, hosts, screenshot=None, timeout=90):
    """Open the page in headless Chromium (hosts resolved to the stand-in's address); True when
    JupyterLab's UI loaded inside the iframe, with a screenshot of the iframe if asked."""
    rules = ','.join('MAP %s %s' % (host, address) for host in hosts)
    # A student's browser that allows third-party cookies, which Moodle's iframe needs (the hub is a
    # third party there): a profile of its own with Chrome's setting "Allow third-party cookies".
    # Playwright's default contexts are incognito-like, where Chromium always blocks them.
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        os.makedirs(os.path.join(profile, 'Default'))
        with open(os.path.join(profile, 'Default', 'Preferences'), 'w') as prefs:
            json.dump({'profile': {'cookie_controls_mode': 0}}, prefs)
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, ignore_https_errors=True,
            viewport={'width': 1280, 'height': 800},
            args=['--no-sandbox', '--host-resolver-rules=%s' % rules])
        try:
            page = browser.new_page()
            page.goto(origin_url)
            try:
                page.frame_locator('#contentframe').locator(LAB_SHELL).wait_for(timeout=timeout * 1000)
            except Exception:  # pylint: disable=broad-except  # not loaded: the answer is False
                loaded = False
            else:
                loaded = True
                page.wait_for_timeout(2000)  # let JupyterLab draw its launcher
            if screenshot:
                page.locator('#contentframe').screenshot(path=screenshot)
            return loaded
        finally:
            browser.close()
