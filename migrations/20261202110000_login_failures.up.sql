-- Failed sign-ins are counted, and accounts locked, per account and client
-- address: someone guessing from one address locks only that address out,
-- never the account's owner signing in from elsewhere. The account-wide
-- columns on users are no longer read.
CREATE TABLE login_failures (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (user_id, address)
);
