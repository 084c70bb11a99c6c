DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN mfa_email;
DROP TABLE user_totp;
