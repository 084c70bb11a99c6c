//! The double-entry ledger (issue 17) on a real database: entries that do
//! not balance are refused and move nothing, a cause is posted once
//! however often and however concurrently it is reported, and after a
//! randomised run of 1 000 operations every balance equals a model's and
//! the invariant check holds.

use std::collections::BTreeMap;

use plaza_app::payments::ledger::{self, Account, Entry, LedgerError, Posted};
use plaza_core::{Currency, Money, UserId};

use crate::helpers::TestApp;
use crate::on_both_databases;

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn entry(kind: &str, reference: &str, postings: Vec<(Account, i64)>) -> Entry {
    Entry {
        kind: kind.into(),
        reference: reference.into(),
        memo: String::new(),
        postings: postings
            .into_iter()
            .map(|(a, minor)| {
                let currency = a.currency.clone();
                (a, Money::new(minor, currency))
            })
            .collect(),
    }
}

async fn post(app: &TestApp, e: &Entry) -> Result<Posted, LedgerError> {
    let mut work = app.state.work().await.unwrap();
    let now = work.now();
    let posted = ledger::post(&mut work, now, e).await?;
    work.commit().await.unwrap();
    Ok(posted)
}

async fn balance(app: &TestApp, account: &Account) -> i64 {
    let mut conn = app.state.db.fresh().acquire().await.unwrap();
    ledger::balance(&mut conn, account).await.unwrap().minor
}

/// A small deterministic generator: the run is the same every time.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

on_both_databases! {
    async fn a_thousand_random_operations_leave_every_balance_right(backend: Backend) {
        let app = TestApp::on(backend).await;
        let jpy = Currency::parse("JPY").unwrap();
        let users: Vec<UserId> = (0..5).map(|_| UserId::new()).collect();
        let mut accounts = Vec::new();
        for currency in [usd(), jpy.clone()] {
            for user in &users {
                accounts.push(Account::wallet(*user, currency.clone()));
            }
            accounts.push(Account::revenue(currency.clone()));
            accounts.push(Account::clearing("sandbox", currency.clone()));
            accounts.push(Account::escrow("deal-1", currency.clone()));
        }
        let mut model: BTreeMap<Account, i64> = BTreeMap::new();
        let mut posted: Vec<Entry> = Vec::new();
        let mut rng = Lcg(17);
        let (mut refused, mut replayed) = (0, 0);
        for n in 0..1_000 {
            match rng.below(10) {
                // A cause reported again moves nothing.
                0 if !posted.is_empty() => {
                    let again = posted[rng.below(posted.len() as u64) as usize].clone();
                    assert!(matches!(post(&app, &again).await.unwrap(), Posted::Already(_)));
                    replayed += 1;
                }
                // An entry that does not balance is refused whole.
                1 => {
                    let a = accounts[rng.below(accounts.len() as u64) as usize].clone();
                    let b = accounts.iter().find(|b| b.currency == a.currency && **b != a).unwrap().clone();
                    let e = entry("test.bad", &format!("bad-{n}"), vec![(a, 5), (b, -4)]);
                    assert!(matches!(post(&app, &e).await, Err(LedgerError::Unbalanced(..))));
                    refused += 1;
                }
                // Two or three postings in one currency that sum to zero.
                _ => {
                    let currency = if rng.below(2) == 0 { usd() } else { jpy.clone() };
                    let pool: Vec<&Account> = accounts.iter().filter(|a| a.currency == currency).collect();
                    let from = pool[rng.below(pool.len() as u64) as usize].clone();
                    let mut to: Vec<Account> = Vec::new();
                    let wanted = 1 + rng.below(2) as usize;
                    while to.len() < wanted {
                        let pick = pool[rng.below(pool.len() as u64) as usize].clone();
                        if pick != from && !to.contains(&pick) {
                            to.push(pick);
                        }
                    }
                    let mut postings = Vec::new();
                    let mut total = 0;
                    for account in to {
                        let minor = 1 + rng.below(1_000_000) as i64;
                        total += minor;
                        postings.push((account, minor));
                    }
                    postings.push((from, -total));
                    let e = entry("test.move", &format!("move-{n}"), postings);
                    assert!(matches!(post(&app, &e).await.unwrap(), Posted::New(_)));
                    for (account, amount) in &e.postings {
                        *model.entry(account.clone()).or_default() += amount.minor;
                    }
                    posted.push(e);
                }
            }
        }
        assert!(refused > 50 && replayed > 50, "both kinds ran: {refused}, {replayed}");
        for account in &accounts {
            let want = model.get(account).copied().unwrap_or(0);
            assert_eq!(balance(&app, account).await, want, "{account:?}");
        }
        let mut conn = app.state.db.fresh().acquire().await.unwrap();
        let report = ledger::check(&mut conn).await.unwrap();
        assert!(report.holds(), "{report:?}");
        assert_eq!(report.entries, posted.len() as i64);
        let postings: usize = posted.iter().map(|e| e.postings.len()).sum();
        assert_eq!(report.postings, postings as i64);
    }
}

on_both_databases! {
    async fn one_cause_reported_ten_times_at_once_moves_money_once(backend: Backend) {
        let app = TestApp::on(backend).await;
        let user = UserId::new();
        let e = entry(
            "payment.settled",
            "pay-1",
            vec![(Account::clearing("stripe", usd()), -2_500), (Account::wallet(user, usd()), 2_500)],
        );
        let tries = (0..10).map(|_| post(&app, &e));
        let results = futures_util::future::join_all(tries).await;
        let new = results.iter().filter(|r| matches!(r, Ok(Posted::New(_)))).count();
        assert_eq!(new, 1, "{results:?}");
        let ids: Vec<_> = results.iter().map(|r| r.as_ref().unwrap().id()).collect();
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "one entry: {ids:?}");
        assert_eq!(balance(&app, &Account::wallet(user, usd())).await, 2_500);
        assert_eq!(balance(&app, &Account::clearing("stripe", usd())).await, -2_500);
    }
}

#[tokio::test]
async fn wrong_entries_are_refused_and_a_forged_posting_is_found() {
    let app = TestApp::spawn().await;
    let (a, b) = (
        Account::wallet(UserId::new(), usd()),
        Account::revenue(usd()),
    );
    let jpy = Currency::parse("JPY").unwrap();
    let cases = [
        (entry("t", "1", vec![(a.clone(), 5)]), "too few"),
        (
            entry("t", "2", vec![(a.clone(), 0), (b.clone(), 0)]),
            "zero",
        ),
        (
            entry("t", "3", vec![(a.clone(), 5), (a.clone(), -5)]),
            "repeated",
        ),
        (
            entry("t", "4", vec![(a.clone(), 5), (b.clone(), -4)]),
            "unbalanced",
        ),
    ];
    for (e, why) in cases {
        assert!(post(&app, &e).await.is_err(), "{why}");
    }
    let mut mixed = entry("t", "5", vec![(a.clone(), 5), (b.clone(), -5)]);
    mixed.postings[0].1 = Money::new(5, jpy);
    assert!(matches!(
        post(&app, &mixed).await,
        Err(LedgerError::WrongCurrency(..))
    ));
    let mut conn = app.state.db.fresh().acquire().await.unwrap();
    let report = ledger::check(&mut conn).await.unwrap();
    assert_eq!(
        (report.entries, report.postings),
        (0, 0),
        "nothing half-written"
    );

    // A posting written around the ledger (by hand, in SQL) is caught.
    let good = entry("t", "6", vec![(a.clone(), 5), (b.clone(), -5)]);
    let id = post(&app, &good).await.unwrap().id();
    sqlx::query(
        "UPDATE ledger_postings SET amount = amount + 1 WHERE entry_id = $1 AND amount > 0",
    )
    .bind(id)
    .execute(app.state.db.writer())
    .await
    .unwrap();
    let report = ledger::check(&mut conn).await.unwrap();
    assert_eq!(report.unbalanced, vec![id]);
    assert!(!report.holds());
}
