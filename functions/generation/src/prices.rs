//! The price table of the model providers (`WHATIF_MODEL_PRICES`, read by
//! [`crate::engine`]): what a generation cost, recorded on the scenario and in
//! the metrics by [`crate::service`].

use std::collections::HashMap;

use crate::provider::TokenUsage;

/// Prices per provider, in USD per million prompt and completion tokens.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices(HashMap<String, (f64, f64)>);

impl Prices {
    /// Parses `provider=prompt/completion,...`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut prices = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || format!("{entry:?}: expected provider=prompt/completion in USD per million tokens");
            let (provider, pair) = entry.split_once('=').ok_or_else(bad)?;
            let (prompt, completion) = pair.split_once('/').ok_or_else(bad)?;
            let number = |v: &str| v.trim().parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0);
            let (Some(prompt), Some(completion)) = (number(prompt), number(completion)) else { return Err(bad()) };
            prices.insert(provider.trim().to_ascii_lowercase(), (prompt, completion));
        }
        Ok(Prices(prices))
    }

    /// What `usage` cost on `provider`, when it has a price.
    pub fn cost(&self, provider: &str, usage: TokenUsage) -> Option<f64> {
        let (prompt, completion) = self.0.get(provider)?;
        let usd = (f64::from(usage.prompt) * prompt + f64::from(usage.completion) * completion) / 1_000_000.0;
        Some((usd * 1_000_000.0).round() / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_and_cost() {
        let prices = Prices::parse("openai=0.15/0.60, Anthropic=1/5").unwrap();
        assert_eq!(prices.cost("openai", TokenUsage::new(1000, 2000)), Some(0.00135));
        assert_eq!(prices.cost("anthropic", TokenUsage::new(1_000_000, 0)), Some(1.0));
        assert_eq!(prices.cost("offline", TokenUsage::new(10, 10)), None);
        for bad in ["openai", "openai=1", "openai=x/1", "openai=-1/2", "openai=1/inf"] {
            assert!(Prices::parse(bad).is_err(), "{bad}");
        }
    }
}
