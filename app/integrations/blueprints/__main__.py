"""`python -m app.integrations.blueprints`: rewrite the starter files from the blueprints'
source (tests/test_blueprints.py fails when they are out of date)."""

from app.integrations.blueprints import write_starters

for path in write_starters():
    print(path)
