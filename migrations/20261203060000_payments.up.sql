-- Payments (issue 17): a payment's lifecycle with its provider, the
-- provider events that moved it, the user-facing transactions, marketplace
-- escrows, and the Idempotency-Key record of money-moving POSTs. Amounts
-- are integer minor units; the money itself is in the ledger's postings.
-- Money records outlive the accounts they name (no cascade from users).
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    -- top_up | premium | escrow
    purpose TEXT NOT NULL,
    -- What it pays for beyond its purpose: the project of an escrow.
    reference TEXT,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    refunded BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    status TEXT NOT NULL CHECK (status IN ('created', 'pending', 'succeeded', 'failed',
        'canceled', 'partially_refunded', 'refunded')),
    provider TEXT NOT NULL,
    -- The provider's own id (a Stripe Checkout Session, a Cryptomus
    -- invoice), once it made one.
    provider_ref TEXT,
    checkout_url TEXT,
    -- Why the payment is held instead of credited (an amount that differs
    -- from what was asked); set once, read by admins.
    flag TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payments_user ON payments (user_id, created_at);
CREATE UNIQUE INDEX payments_provider_ref ON payments (provider, provider_ref);
-- The reconciliation job's scan: payments still waiting for their provider.
CREATE INDEX payments_waiting ON payments (status, updated_at);

-- Every provider event plaza accepted, once: a redelivered event finds its
-- row and changes nothing.
CREATE TABLE payment_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payment_id TEXT,
    -- The provider's event type and status as sent.
    kind TEXT NOT NULL,
    -- What it did: applied | stale | flagged | ignored.
    outcome TEXT NOT NULL,
    -- The amount as the provider wrote it (crypto keeps its own precision).
    amount TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_events_payment ON payment_events (payment_id);

-- Seed 004's transactions: each movement of a user's money as they see it.
-- A payment's row mirrors its status; refunds and payouts have their own.
CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    -- top_up | premium | escrow | refund | payout
    kind TEXT NOT NULL,
    -- Minor units, positive; the kind says which way the money went.
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    provider_ref TEXT,
    payment_id TEXT,
    -- The ledger entry that moved the money, once it moved.
    entry_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX transactions_user ON transactions (user_id, created_at, id);
CREATE INDEX transactions_payment ON transactions (payment_id);

-- A marketplace deal's money: funded by the project's owner, released to
-- the freelancer when the project completes, refunded if it is cancelled.
CREATE TABLE escrows (
    project_id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    freelancer_id TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    -- The platform's fee in basis points, fixed when funding began.
    fee_bps INTEGER NOT NULL,
    -- awaiting | funded | released | refunded
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Idempotency-Key: the first answer to a money-moving POST, replayed to a
-- retry with the same key and body.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    -- The method and path the key was used on, and a digest of the body.
    route TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
