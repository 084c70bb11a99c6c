//! Money: amounts in minor units (cents, kopecks, fils) as integers, with
//! an ISO 4217 currency code. Never floating point: amounts are read from
//! and written as decimal text, and arithmetic is checked.

use serde::{Deserialize, Serialize};

/// The ISO 4217 codes in circulation (list of 2025), sorted for a binary
/// search. Funds and precious metals (XAU, XDR…) are left out.
const CODES: [&str; 155] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP",
    "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD",
    "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD",
    "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK",
    "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK",
    "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG",
    "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// An ISO 4217 currency code, upper case (`"usd"` is read as `USD`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO 4217 currency code (such as USD, EUR, RUB)")]
pub struct CurrencyError;

impl Currency {
    pub fn parse(s: &str) -> Result<Self, CurrencyError> {
        let code = s.trim().to_ascii_uppercase();
        if CODES.binary_search(&code.as_str()).is_ok() {
            Ok(Self(code))
        } else {
            Err(CurrencyError)
        }
    }
}

crate::text::validated_string!(Currency, CurrencyError);

/// Currencies without minor units (ISO 4217 exponent 0).
const NO_DECIMALS: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Currencies with three decimals (exponent 3).
const THREE_DECIMALS: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

impl Currency {
    /// Digits after the decimal point (ISO 4217's exponent): 0 for JPY,
    /// 3 for KWD, 2 for most.
    pub fn exponent(&self) -> u32 {
        if NO_DECIMALS.contains(&self.0.as_str()) {
            0
        } else if THREE_DECIMALS.contains(&self.0.as_str()) {
            3
        } else {
            2
        }
    }

    /// Minor units in one major unit (100 for USD, 1 for JPY, 1000 for KWD).
    pub fn scale(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

/// An amount of one currency, in its minor units. Negative amounts are
/// allowed (ledger postings are signed); whether one is acceptable is the
/// caller's rule.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: cents for USD, yen for JPY, fils for KWD.
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amounts in {0} and {1} cannot be combined")]
    Mixed(Currency, Currency),
    #[error("the amount is out of range")]
    Overflow,
    #[error("not an amount: write digits with at most {0} after the point, such as 12.50")]
    Unreadable(u32),
    #[error("a fee is 0 to 10000 basis points")]
    BadRate,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Reads decimal text in major units (`"12.5"` USD is 1250 cents);
    /// more digits after the point than the currency has is an error, not
    /// a rounding.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, MoneyError> {
        let digits = currency.exponent();
        let unreadable = || MoneyError::Unreadable(digits);
        let text = text.trim();
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(unreadable());
        }
        if unsigned.contains('.') && fraction.is_empty() {
            return Err(unreadable());
        }
        let fraction_len = u32::try_from(fraction.len()).map_err(|_| unreadable())?;
        if fraction_len > digits {
            return Err(unreadable());
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| unreadable())?
        };
        let fraction = fraction * 10_i64.pow(digits - fraction_len);
        let minor = whole
            .checked_mul(currency.scale())
            .and_then(|m| m.checked_add(fraction))
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(if negative { -minor } else { minor }, currency))
    }

    /// The amount in major units as text, with exactly the currency's
    /// digits after the point (`"12.50"`, `"1250"` for JPY, `"1.250"` KWD).
    pub fn decimal(&self) -> String {
        let digits = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u64.pow(digits);
        let width = digits as usize;
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale)
    }

    pub fn is_zero(&self) -> bool {
        self.minor == 0
    }

    pub fn checked_add(&self, other: &Self) -> Result<Self, MoneyError> {
        self.same(other)?;
        let minor = self.minor.checked_add(other.minor);
        Ok(Self::new(
            minor.ok_or(MoneyError::Overflow)?,
            self.currency.clone(),
        ))
    }

    pub fn checked_sub(&self, other: &Self) -> Result<Self, MoneyError> {
        self.same(other)?;
        let minor = self.minor.checked_sub(other.minor);
        Ok(Self::new(
            minor.ok_or(MoneyError::Overflow)?,
            self.currency.clone(),
        ))
    }

    pub fn checked_neg(&self) -> Result<Self, MoneyError> {
        let minor = self.minor.checked_neg().ok_or(MoneyError::Overflow)?;
        Ok(Self::new(minor, self.currency.clone()))
    }

    /// Splits off a fee of `bps` basis points (1/100 of a percent),
    /// rounded half away from zero to a whole minor unit: `(fee, rest)`,
    /// which always add up to `self` exactly.
    pub fn split_fee(&self, bps: u32) -> Result<(Self, Self), MoneyError> {
        if bps > 10_000 {
            return Err(MoneyError::BadRate);
        }
        let product = i128::from(self.minor) * i128::from(bps);
        let half = 5_000 * product.signum();
        let fee = (product + half) / 10_000;
        // |fee| ≤ |self.minor|, so it fits.
        let fee = i64::try_from(fee).map_err(|_| MoneyError::Overflow)?;
        let fee = Self::new(fee, self.currency.clone());
        let rest = self.checked_sub(&fee)?;
        Ok((fee, rest))
    }

    fn same(&self, other: &Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::Mixed(
                self.currency.clone(),
                other.currency.clone(),
            ))
        }
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

impl std::fmt::Debug for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Money({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn money(text: &str, code: &str) -> Money {
        Money::parse(text, cur(code)).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(cur("USD").exponent(), 2);
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("KWD").exponent(), 3);
        assert_eq!(cur("KWD").scale(), 1_000);
        for code in NO_DECIMALS.iter().chain(&THREE_DECIMALS) {
            assert!(CODES.binary_search(code).is_ok(), "{code} is a known code");
        }
    }

    #[test]
    fn amounts_are_read_exactly_or_refused() {
        assert_eq!(money("12.5", "USD").minor, 1_250);
        assert_eq!(money("12.50", "USD").minor, 1_250);
        assert_eq!(money("0.01", "USD").minor, 1);
        assert_eq!(money("-3", "USD").minor, -300);
        assert_eq!(money("1250", "JPY").minor, 1_250);
        assert_eq!(money("1.25", "KWD").minor, 1_250);
        assert_eq!(money("1.005", "KWD").minor, 1_005);
        for bad in [
            "", ".5", "1.", "1.005", "1e3", "1,50", "+1", "--1", "1.2.3", " ", "0x10",
        ] {
            assert!(Money::parse(bad, cur("USD")).is_err(), "{bad:?}");
        }
        assert!(Money::parse("1.5", cur("JPY")).is_err(), "no yen fractions");
        assert_eq!(
            Money::parse("99999999999999999999", cur("USD")),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn amounts_are_written_with_the_currencys_digits() {
        assert_eq!(Money::new(1_250, cur("USD")).decimal(), "12.50");
        assert_eq!(Money::new(-5, cur("USD")).decimal(), "-0.05");
        assert_eq!(Money::new(1_250, cur("JPY")).decimal(), "1250");
        assert_eq!(Money::new(1_005, cur("KWD")).decimal(), "1.005");
        assert_eq!(
            Money::new(i64::MIN, cur("USD")).decimal(),
            "-92233720368547758.08"
        );
        assert_eq!(Money::new(7, cur("EUR")).to_string(), "0.07 EUR");
        for text in ["0.00", "12.34", "-7.10", "92233720368547758.07"] {
            assert_eq!(money(text, "USD").decimal(), text);
        }
    }

    #[test]
    fn arithmetic_is_checked_and_keeps_currencies_apart() {
        let a = money("10", "USD");
        let b = money("2.50", "USD");
        assert_eq!(a.checked_add(&b).unwrap().minor, 1_250);
        assert_eq!(b.checked_sub(&a).unwrap().minor, -750);
        assert!(matches!(
            a.checked_add(&money("1", "EUR")),
            Err(MoneyError::Mixed(..))
        ));
        let max = Money::new(i64::MAX, cur("USD"));
        assert_eq!(max.checked_add(&b), Err(MoneyError::Overflow));
        assert_eq!(
            Money::new(i64::MIN, cur("USD")).checked_neg(),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn a_fee_and_the_rest_add_up_to_the_whole() {
        let (fee, rest) = money("100", "USD").split_fee(1_000).unwrap();
        assert_eq!((fee.minor, rest.minor), (1_000, 9_000));
        // 2.5 % of 0.99 is 2.475 cents: rounded half away from zero to 2.
        let (fee, rest) = Money::new(99, cur("USD")).split_fee(250).unwrap();
        assert_eq!((fee.minor, rest.minor), (2, 97));
        // 5 % of 0.10 is exactly half a unit more than 0: 0.5 → 1.
        let (fee, _) = Money::new(10, cur("USD")).split_fee(500).unwrap();
        assert_eq!(fee.minor, 1);
        let (fee, rest) = Money::new(-10, cur("USD")).split_fee(500).unwrap();
        assert_eq!((fee.minor, rest.minor), (-1, -9));
        for minor in [0, 1, 7, 333, 1_000_001, i64::MAX, i64::MIN + 1] {
            for bps in [0, 1, 99, 1_234, 5_000, 10_000] {
                let whole = Money::new(minor, cur("JPY"));
                let (fee, rest) = whole.split_fee(bps).unwrap();
                assert_eq!(fee.checked_add(&rest).unwrap(), whole, "{minor} at {bps}");
            }
        }
        assert_eq!(
            money("1", "USD").split_fee(10_001),
            Err(MoneyError::BadRate)
        );
    }

    #[test]
    fn money_travels_as_minor_units_and_a_code() {
        let m = money("12.34", "usd");
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json, serde_json::json!({"minor": 1234, "currency": "USD"}));
        let back: Money = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
        let bad = serde_json::json!({"minor": 1.5, "currency": "USD"});
        assert!(serde_json::from_value::<Money>(bad).is_err(), "no floats");
    }

    #[test]
    fn codes_are_sorted_and_checked() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!(Currency::parse(" usd").unwrap().as_str(), "USD");
        assert_eq!(Currency::parse("RUB").unwrap().to_string(), "RUB");
        for bad in ["", "US", "USDT", "XXX", "ABC", "€"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }
}
