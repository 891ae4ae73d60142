-- Terms of service versions and their acceptance per account (ACCT-7),
-- and the operator's sub-processor list (PRIV-7).
CREATE TABLE terms_versions (
    version      TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    summary      TEXT NOT NULL,
    effective_at {{INT}} NOT NULL,
    published_at {{INT}} NOT NULL
);

CREATE TABLE terms_acceptances (
    account_id  TEXT NOT NULL,
    version     TEXT NOT NULL REFERENCES terms_versions (version),
    accepted_by TEXT NOT NULL,
    ip          TEXT NOT NULL,
    accepted_at {{INT}} NOT NULL,
    PRIMARY KEY (account_id, version)
);
CREATE INDEX terms_acceptances_version ON terms_acceptances (version, accepted_at);

CREATE TABLE subprocessors (
    position INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    purpose  TEXT NOT NULL,
    location TEXT NOT NULL
);

CREATE TABLE subprocessors_changes (
    changed_at {{INT}} PRIMARY KEY,
    list       TEXT NOT NULL
);
