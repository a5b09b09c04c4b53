-- Applications, rules and scenarios shared by every node, as numbered catalog versions: an
-- admin edit on any node writes the next version (the whole [[application]] tables as in
-- dialtone.toml, and every scenario source) and announces it; each node builds it for the
-- calls that arrive from then on, while calls in progress keep the version they started with.

CREATE TABLE catalog_versions (
    version BIGINT PRIMARY KEY,
    applications TEXT NOT NULL,
    node TEXT NOT NULL,
    created BIGINT NOT NULL
);

CREATE TABLE catalog_scenarios (
    version BIGINT NOT NULL REFERENCES catalog_versions (version) ON DELETE CASCADE,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (version, name)
);
