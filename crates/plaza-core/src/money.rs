//! Money: amounts in minor units (cents, kopecks) as integers, with an
//! ISO 4217 currency code. Never floating point.

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

#[cfg(test)]
mod tests {
    use super::*;

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
