from alliance.migrate import migrate, pending_diff


def test_migrated_schema_matches_the_models(database):
    assert not pending_diff(), "models changed without a migration: python -m server makemigration NAME"


def test_migrate_twice_applies_nothing(database):
    assert migrate() == []
