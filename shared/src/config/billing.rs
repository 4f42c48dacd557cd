//! Credits and billing configuration: what each spending route costs, the
//! plans' monthly allowances, the credit packs on sale, and where Stripe and
//! the web client's checkout pages are. Every value has a default, so a
//! deployment without Stripe still runs (checkout then answers 503).

use std::collections::HashMap;

use super::ConfigError;

/// What one unit of work costs, in credits (`GET /api/billing/plans` shows them as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub generate: i64,
    pub continuation: i64,
    pub regenerate: i64,
    /// One topic of a batch.
    pub batch_topic: i64,
    pub narration: i64,
    pub video: i64,
}

impl Default for Prices {
    fn default() -> Self {
        Prices { generate: 1, continuation: 1, regenerate: 1, batch_topic: 1, narration: 2, video: 5 }
    }
}

impl Prices {
    /// `generate=1,continue=1,regenerate=1,batch=1,narration=2,video=5`; what
    /// is left out keeps its default. Prices are 0..=1_000_000.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut prices = Prices::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| format!("{part:?} is not name=credits"))?;
            let value: i64 = value.trim().parse().map_err(|_| format!("{part:?}: the price is not a whole number"))?;
            if !(0..=1_000_000).contains(&value) {
                return Err(format!("{part:?}: a price is 0..=1000000 credits"));
            }
            let slot = match name.trim() {
                "generate" => &mut prices.generate,
                "continue" => &mut prices.continuation,
                "regenerate" => &mut prices.regenerate,
                "batch" => &mut prices.batch_topic,
                "narration" => &mut prices.narration,
                "video" => &mut prices.video,
                other => {
                    return Err(format!(
                        "{other:?} is not one of generate, continue, regenerate, batch, narration, video"
                    ));
                }
            };
            *slot = value;
        }
        Ok(prices)
    }
}

/// A credit pack on sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    /// Its id in requests (`{pack}`), `[a-z0-9-]{1,32}`.
    pub id: String,
    pub credits: i64,
    /// The price in the currency's smallest unit (cents).
    pub amount: i64,
    /// A Stripe Price id (`price_...`) to sell instead of an inline price.
    pub stripe_price: Option<String>,
    /// Buying it puts the account on the premium plan (`WHATIF_PREMIUM_PACKS`).
    pub premium: bool,
}

impl Pack {
    /// `id:credits:amount[:price_id]` entries separated by `,`.
    pub fn parse_list(spec: &str) -> Result<Vec<Pack>, String> {
        let mut packs: Vec<Pack> = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let fields: Vec<&str> = entry.split(':').map(str::trim).collect();
            let (id, credits, amount, price) = match fields.as_slice() {
                [id, credits, amount] => (*id, *credits, *amount, None),
                [id, credits, amount, price] => (*id, *credits, *amount, Some(*price)),
                _ => return Err(format!("{entry:?} is not id:credits:amount[:stripe_price_id]")),
            };
            let id_ok = (1..=32).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                return Err(format!("{id:?}: a pack id is 1-32 of a-z, 0-9 and -"));
            }
            if packs.iter().any(|p| p.id == id) {
                return Err(format!("the pack {id:?} is listed twice"));
            }
            let credits: i64 = credits.parse().map_err(|_| format!("{entry:?}: credits is not a whole number"))?;
            let amount: i64 = amount.parse().map_err(|_| format!("{entry:?}: amount is not a whole number"))?;
            if !(1..=1_000_000).contains(&credits) || !(50..=99_999_999).contains(&amount) {
                return Err(format!("{entry:?}: credits is 1..=1000000, amount 50..=99999999 (smallest unit)"));
            }
            let stripe_price = match price {
                Some(p)
                    if p.starts_with("price_")
                        && p.len() <= 255
                        && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    Some(p.to_string())
                }
                Some(p) => return Err(format!("{p:?} is not a Stripe Price id (price_...)")),
                None => None,
            };
            packs.push(Pack { id: id.to_string(), credits, amount, stripe_price, premium: false });
        }
        if packs.is_empty() {
            return Err("at least one pack is needed".into());
        }
        Ok(packs)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BillingConfig {
    pub prices: Prices,
    /// Credits the free plan renews to each calendar month (UTC).
    pub free_monthly: i64,
    /// Credits the premium plan renews to each calendar month (UTC).
    pub premium_monthly: i64,
    pub packs: Vec<Pack>,
    /// ISO 4217, lower case (`usd`).
    pub currency: String,
    /// Stripe's API (`WHATIF_STRIPE_BASE_URL`; tests point it at a fake).
    pub stripe_base_url: String,
    pub stripe_timeout_ms: u64,
    /// Where Checkout sends the buyer back: whole URLs on the web client.
    pub success_url: String,
    pub cancel_url: String,
    /// How old a webhook's signature may be (Stripe's default: 300 s).
    pub webhook_tolerance_secs: i64,
}

impl BillingConfig {
    pub fn allowance(&self, plan: crate::auth::Plan) -> i64 {
        match plan {
            crate::auth::Plan::Free => self.free_monthly,
            crate::auth::Plan::Premium => self.premium_monthly,
        }
    }

    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    pub fn from_env(env: &HashMap<String, String>, frontend_url: &str) -> Result<Self, ConfigError> {
        let var = |name: &'static str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let invalid = |var: &'static str| move |reason: String| ConfigError::Invalid { var, reason };
        let prices = var("WHATIF_CREDIT_PRICES")
            .map(Prices::parse)
            .transpose()
            .map_err(invalid("WHATIF_CREDIT_PRICES"))?
            .unwrap_or_default();
        let free_monthly: i64 = super::parse(env, "WHATIF_FREE_MONTHLY_CREDITS", 100)?;
        let premium_monthly: i64 = super::parse(env, "WHATIF_PREMIUM_MONTHLY_CREDITS", 1000)?;
        if !(0..=10_000_000).contains(&free_monthly) {
            return Err(invalid("WHATIF_FREE_MONTHLY_CREDITS")("must be 0..=10000000".into()));
        }
        if !(0..=10_000_000).contains(&premium_monthly) {
            return Err(invalid("WHATIF_PREMIUM_MONTHLY_CREDITS")("must be 0..=10000000".into()));
        }
        let mut packs =
            Pack::parse_list(var("WHATIF_CREDIT_PACKS").unwrap_or("small:100:500,medium:500:2000,large:2000:6000"))
                .map_err(invalid("WHATIF_CREDIT_PACKS"))?;
        for id in var("WHATIF_PREMIUM_PACKS").unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match packs.iter_mut().find(|p| p.id == id) {
                Some(pack) => pack.premium = true,
                None => {
                    return Err(invalid("WHATIF_PREMIUM_PACKS")(format!(
                        "{id:?} is not a pack of WHATIF_CREDIT_PACKS"
                    )));
                }
            }
        }
        let currency = var("WHATIF_CURRENCY").unwrap_or("usd").to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ConfigError::Invalid {
                var: "WHATIF_CURRENCY",
                reason: "must be an ISO 4217 code (usd)".into(),
            });
        }
        let stripe_base_url =
            super::url("WHATIF_STRIPE_BASE_URL", var("WHATIF_STRIPE_BASE_URL").unwrap_or("https://api.stripe.com"))?;
        let stripe_timeout_ms: u64 = super::parse(env, "WHATIF_STRIPE_TIMEOUT_MS", 10_000)?;
        if !(100..=60_000).contains(&stripe_timeout_ms) {
            return Err(ConfigError::Invalid { var: "WHATIF_STRIPE_TIMEOUT_MS", reason: "must be 100..=60000".into() });
        }
        let page = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            match var(name).unwrap_or(default) {
                path if path.starts_with('/') => Ok(format!("{}{path}", frontend_url.trim_end_matches('/'))),
                whole => super::url(name, whole),
            }
        };
        let success_url = page("WHATIF_CHECKOUT_SUCCESS_URL", "/billing/success?session_id={CHECKOUT_SESSION_ID}")?;
        let cancel_url = page("WHATIF_CHECKOUT_CANCEL_URL", "/billing/cancel")?;
        let webhook_tolerance_secs: i64 = super::parse(env, "WHATIF_STRIPE_WEBHOOK_TOLERANCE_SECS", 300)?;
        if !(1..=3600).contains(&webhook_tolerance_secs) {
            return Err(ConfigError::Invalid {
                var: "WHATIF_STRIPE_WEBHOOK_TOLERANCE_SECS",
                reason: "must be 1..=3600".into(),
            });
        }
        Ok(BillingConfig {
            prices,
            free_monthly,
            premium_monthly,
            packs,
            currency,
            stripe_base_url,
            stripe_timeout_ms,
            success_url,
            cancel_url,
            webhook_tolerance_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_and_keep_defaults() {
        let p = Prices::parse("video=9, narration=0").unwrap();
        assert_eq!((p.video, p.narration, p.generate), (9, 0, 1));
        assert!(Prices::parse("video=-1").is_err());
        assert!(Prices::parse("movie=1").is_err());
        assert!(Prices::parse("video").is_err());
    }

    #[test]
    fn packs_parse_and_refuse_bad_entries() {
        let packs = Pack::parse_list("a:10:500,b-2:20:900:price_123").unwrap();
        assert_eq!(packs[1].stripe_price.as_deref(), Some("price_123"));
        for bad in ["", "A:1:500", "a:0:500", "a:1:10", "a:1:500,a:2:600", "a:1:500:prod_1", "a:1"] {
            assert!(Pack::parse_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn premium_packs_must_be_packs() {
        let env = |v: &str| HashMap::from([("WHATIF_PREMIUM_PACKS".to_string(), v.to_string())]);
        let c = BillingConfig::from_env(&env("large"), "https://app.example").unwrap();
        assert!(c.pack("large").unwrap().premium && !c.pack("small").unwrap().premium);
        assert!(BillingConfig::from_env(&env("gold"), "https://app.example").is_err());
    }

    #[test]
    fn checkout_pages_are_on_the_web_client() {
        let c = BillingConfig::from_env(&HashMap::new(), "https://app.example").unwrap();
        assert_eq!(c.success_url, "https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}");
        assert_eq!(c.stripe_base_url, "https://api.stripe.com");
    }
}
