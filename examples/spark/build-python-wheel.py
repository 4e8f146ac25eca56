#!/usr/bin/env python3
"""Builds a pure-Python wheel (PEP 427) of the example jobs, without pip or a network: a zip of
the packages plus `<name>-<version>.dist-info/` (METADATA, WHEEL, top_level.txt and RECORD with a
sha256 per file). Optionally an egg as well (the same packages plus EGG-INFO/PKG-INFO). Both are
zip-importable, which is how jetjobs' Python runner loads them.

    python3 examples/spark/build-python-wheel.py OUT.whl [--egg OUT.egg] [--src DIR]
                                                 [--name NAME] [--version VERSION]

--src defaults to examples/spark/python: every package (a directory with __init__.py) and module
(*.py) directly in it goes in. The archives are reproducible: fixed entry order, permissions and
timestamps (SOURCE_DATE_EPOCH if set, else 1980-01-01).
"""
import argparse
import base64
import hashlib
import os
import re
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def collect(src):
    """(archive name, bytes) of every file of the top-level packages and modules in `src`, sorted."""
    files, top = [], []
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, '__init__.py')):
            top.append(entry)
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
                for name in sorted(filenames):
                    if name.endswith(('.pyc', '.pyo')):
                        continue
                    full = os.path.join(dirpath, name)
                    files.append((os.path.relpath(full, src).replace(os.sep, '/'), read(full)))
        elif entry.endswith('.py') and os.path.isfile(path):
            top.append(entry[:-3])
            files.append((entry, read(path)))
    if not files:
        sys.exit('build-python-wheel: no package or module in %s' % src)
    return files, top


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return 'sha256=' + base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


def write_zip(out, entries, date_time):
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, whatever the build host: same bytes everywhere
            z.writestr(info, data)
    os.replace(tmp, out)


def build_wheel(out, files, top, name, version, date_time):
    dist_info = '%s-%s.dist-info' % (re.sub(r'[-_.]+', '_', name), version)
    meta = [
        ('METADATA', 'Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: Spark Jobserver example jobs for jetjobs\n' % (name, version)),
        ('WHEEL', 'Wheel-Version: 1.0\nGenerator: jetjobs build-python-wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n'),
        ('top_level.txt', ''.join(t + '\n' for t in top)),
    ]
    entries = list(files) + [('%s/%s' % (dist_info, n), text.encode('utf-8')) for n, text in meta]
    record_name = dist_info + '/RECORD'
    record = ''.join('%s,%s,%d\n' % (n, record_hash(d), len(d)) for n, d in entries) + record_name + ',,\n'
    write_zip(out, entries + [(record_name, record.encode('utf-8'))], date_time)


def build_egg(out, files, top, name, version, date_time):
    info = [
        ('PKG-INFO', 'Metadata-Version: 1.1\nName: %s\nVersion: %s\nSummary: Spark Jobserver example jobs for jetjobs\n' % (name, version)),
        ('top_level.txt', ''.join(t + '\n' for t in top)),
        ('SOURCES.txt', ''.join(n + '\n' for n, _ in files)),
        ('zip-safe', '\n'),
    ]
    write_zip(out, list(files) + [('EGG-INFO/' + n, text.encode('utf-8')) for n, text in info], date_time)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', help='the wheel to write (e.g. dist/jetjobs_spark_examples-0.1.0-py3-none-any.whl)')
    parser.add_argument('--egg', help='also write an egg here')
    parser.add_argument('--src', default=os.path.join(HERE, 'python'), help='directory of the packages (default: %(default)s)')
    parser.add_argument('--name', default='jetjobs-spark-examples')
    parser.add_argument('--version', default='0.1.0')
    args = parser.parse_args()
    epoch = max(int(os.environ.get('SOURCE_DATE_EPOCH', '315532800')), 315532800)  # zip cannot go before 1980
    date_time = time.gmtime(epoch)[:6]
    files, top = collect(args.src)
    build_wheel(args.out, files, top, args.name, args.version, date_time)
    if args.egg:
        build_egg(args.egg, files, top, args.name, args.version, date_time)


if __name__ == '__main__':
    main()
