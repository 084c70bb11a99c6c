-- The double-entry ledger (issue 17): accounts, journal entries and their
-- postings. Amounts are integer minor units; a balance is the sum of an
-- account's postings, never a stored number edited by hand.
CREATE TABLE ledger_accounts (
    id TEXT PRIMARY KEY,
    -- wallet | revenue | clearing | escrow
    kind TEXT NOT NULL,
    -- A user id (wallet), a provider (clearing), a deal (escrow); '' for
    -- the platform's own accounts.
    owner TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (kind, owner, currency)
);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    -- What caused it (payment.settled, escrow.released, …) and the thing
    -- it happened to: one entry per cause, however often it is reported.
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    memo TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (kind, reference)
);

CREATE TABLE ledger_postings (
    entry_id TEXT NOT NULL REFERENCES ledger_entries (id),
    account_id TEXT NOT NULL REFERENCES ledger_accounts (id),
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);

CREATE INDEX ledger_postings_account ON ledger_postings (account_id);
