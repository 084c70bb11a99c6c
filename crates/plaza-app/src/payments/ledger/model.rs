//! The ledger's model: accounts, entries and what posting one did.

use std::collections::BTreeMap;

use plaza_core::{Currency, EntryId, Money, UserId};

use crate::payments::error::LedgerError;

/// What an account holds money for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountKind {
    /// A user's money on the platform.
    Wallet,
    /// The platform's fees.
    Revenue,
    /// Money a provider (Stripe, Cryptomus, the sandbox) has taken in and
    /// not yet settled: the outside world's side of every payment.
    Clearing,
    /// Money held for a deal until it is released or refunded.
    Escrow,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wallet => "wallet",
            Self::Revenue => "revenue",
            Self::Clearing => "clearing",
            Self::Escrow => "escrow",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Wallet, Self::Revenue, Self::Clearing, Self::Escrow]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// An account by what it is: created on its first posting.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    pub kind: AccountKind,
    /// The user (wallet), provider (clearing) or deal (escrow); empty for
    /// the platform's revenue.
    pub owner: String,
    pub currency: Currency,
}

impl Account {
    pub fn wallet(user: UserId, currency: Currency) -> Self {
        Self::new(AccountKind::Wallet, user.to_string(), currency)
    }

    pub fn revenue(currency: Currency) -> Self {
        Self::new(AccountKind::Revenue, String::new(), currency)
    }

    pub fn clearing(provider: &str, currency: Currency) -> Self {
        Self::new(AccountKind::Clearing, provider.to_owned(), currency)
    }

    pub fn escrow(deal: &str, currency: Currency) -> Self {
        Self::new(AccountKind::Escrow, deal.to_owned(), currency)
    }

    fn new(kind: AccountKind, owner: String, currency: Currency) -> Self {
        Self {
            kind,
            owner,
            currency,
        }
    }
}

/// A journal entry to write: why, and the postings.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The cause, as an event name (`payment.settled`, `escrow.released`).
    pub kind: String,
    /// What it happened to (a payment id, a deal id); with `kind`, unique.
    pub reference: String,
    pub memo: String,
    pub postings: Vec<(Account, Money)>,
}

/// What writing an entry did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Posted {
    New(EntryId),
    /// This cause was written before (by a retry, or another node): nothing
    /// moved now.
    Already(EntryId),
}

impl Posted {
    pub fn id(self) -> EntryId {
        match self {
            Self::New(id) | Self::Already(id) => id,
        }
    }
}

impl Entry {
    /// Whether the entry may be written: two or more postings, none zero,
    /// each account once and in its own currency, summing to zero per
    /// currency.
    pub fn check(&self) -> Result<(), LedgerError> {
        if self.postings.len() < 2 {
            return Err(LedgerError::TooFewPostings);
        }
        let mut sums: BTreeMap<&Currency, Money> = BTreeMap::new();
        for (n, (account, amount)) in self.postings.iter().enumerate() {
            if amount.is_zero() {
                return Err(LedgerError::ZeroPosting);
            }
            if account.currency != amount.currency {
                return Err(LedgerError::WrongCurrency(
                    account.currency.clone(),
                    amount.currency.clone(),
                ));
            }
            if self.postings[..n].iter().any(|(a, _)| a == account) {
                return Err(LedgerError::RepeatedAccount);
            }
            let sum = match sums.get(&amount.currency) {
                Some(sum) => sum.checked_add(amount)?,
                None => amount.clone(),
            };
            sums.insert(&amount.currency, sum);
        }
        match sums.into_iter().find(|(_, sum)| !sum.is_zero()) {
            Some((currency, sum)) => Err(LedgerError::Unbalanced(currency.clone(), sum.decimal())),
            None => Ok(()),
        }
    }
}

/// What the invariant check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub entries: i64,
    pub postings: i64,
    /// Entries whose postings do not sum to zero in some currency.
    pub unbalanced: Vec<EntryId>,
    /// Entries with fewer than two postings.
    pub incomplete: Vec<EntryId>,
    /// Entries posting an amount in another currency than its account's.
    pub mixed: Vec<EntryId>,
}

impl Report {
    pub fn holds(&self) -> bool {
        self.unbalanced.is_empty() && self.incomplete.is_empty() && self.mixed.is_empty()
    }
}
