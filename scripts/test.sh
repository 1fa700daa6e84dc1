#!/usr/bin/env bash
# Installs what the test suite needs on a new machine (Debian packages, Python packages), starts
# PostgreSQL if it is not answering, then runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -r requirements.txt

# PostgreSQL: start the local cluster when nothing answers on 127.0.0.1:5432, and make sure the tests can
# log in as postgres over TCP without a password (trust on loopback only, as on this machine kind).
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
fi
psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 'postgresql ready: ' || version()" | head -n 1

# Without arguments, three runs:
# 1. everything but the browser journeys on two workers (pytest-xdist; each worker has its own PostgreSQL
#    database and SQLite files) with the product's clock a year and a day ahead, noting which tests read
#    the product's clock (the date-sensitive ones);
# 2. those date-sensitive tests again with the clock a month back, so no test passes only on some dates
#    (issue #27: a fixture on fixed dates against a page's default period fails one of the two); on the
#    backends in COMPLAINTS_TEST_SHIFT_BACKENDS, SQLite by default to keep the suite within 15 minutes
#    (the date is the product's, not the database's; "sqlite,postgresql" runs both, about 2.5 min more);
# 3. the Chromium journeys one at a time on the machine's date, each starting its own server.
# COMPLAINTS_TEST_SHIFTS="+366d -30d" sets the two shifts. With arguments, one plain pytest run with them
# (e.g. `-m "not browser"`, a file, `--clock-shift=+366d`).
if [ $# -eq 0 ]; then
  read -r ahead back <<<"${COMPLAINTS_TEST_SHIFTS:-+366d -30d}"
  workers="${COMPLAINTS_TEST_WORKERS:-2}"
  dated=$(mktemp)
  trap 'rm -f "$dated"' EXIT
  python3 -m pytest -n "$workers" -m "not browser" --clock-shift="$ahead" --clock-record="$dated"
  sort -u -o "$dated" "$dated"
  echo "date-sensitive tests found: $(wc -l <"$dated"); running them again with the clock moved $back"
  if [ -s "$dated" ]; then
    COMPLAINTS_TEST_BACKENDS="${COMPLAINTS_TEST_SHIFT_BACKENDS:-sqlite}" \
      python3 -m pytest -n "$workers" -m "not browser" --clock-shift="$back" --clock-only="$dated" -q
  fi
  python3 -m pytest -m browser
else
  python3 -m pytest "$@"
fi
