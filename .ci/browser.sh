# Sourced by .ci/run: a real headless browser for the verify page's tests
# (tests/process/test_verify_page.py): Debian's Chromium, driven by Playwright for Python
# (the `playwright` of the test extra) through executable_path, so that no browser is
# downloaded by `playwright install`; a small CJK font so that its screenshots show the
# Chinese page a phone shows. HNCE_REQUIRE_BROWSER=1 makes a missing browser a failure.
if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
export HNCE_REQUIRE_BROWSER=1
echo "$(/usr/bin/chromium --version 2>/dev/null || echo 'no chromium') for the browser tests"
