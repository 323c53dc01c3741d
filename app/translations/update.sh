#!/bin/sh
# Re-extract every msgid, merge it into the Chinese catalogue, and compile it.
# Usage (from anywhere): sh app/translations/update.sh
# New or changed msgids come out empty or "#, fuzzy": translate each, remove the fuzzy flag,
# run this again, then .venv/bin/pytest tests/test_i18n.py.
set -e
cd "$(dirname "$0")/../.."
BABEL=.venv/bin/pybabel
$BABEL -q extract -F app/translations/babel.cfg -k _l -k N_ -k lazy_gettext \
    --project Concord --copyright-holder "Concord contributors" \
    -o app/translations/messages.pot app cases mediators workflows statutes templates
if [ -f app/translations/zh_Hans_CN/LC_MESSAGES/messages.po ]; then
    $BABEL -q update -i app/translations/messages.pot -d app/translations -l zh_Hans_CN \
        --ignore-obsolete
else
    $BABEL -q init -i app/translations/messages.pot -d app/translations -l zh_Hans_CN
fi
$BABEL compile -d app/translations --statistics
