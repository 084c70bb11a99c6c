DROP TABLE idempotency_keys;
DROP TABLE escrows;
DROP TABLE transactions;
DROP TABLE payment_events;
DROP TABLE payments;
