//! Credits and billing (API.md, "Credits and billing"): the caller's credits
//! and ledger, the plans and packs, Stripe Checkout and Stripe's webhook.
//! Each row below is one Lambda function; its handler is the module of the
//! same name (`stripe` is the Stripe adapter, `signature` its webhook
//! signatures). The ledger itself is in the shared crate
//! (`whatif_shared::credits`), since generation and media debit it.
//! docs/billing.md explains the money flows.

pub mod checkout;
pub mod credits;
pub mod data;
pub mod plans;
pub mod signature;
pub mod stripe;
pub mod webhook;

use whatif_shared::auth::AuthLevel;
use whatif_shared::config::secrets;
use whatif_shared::handler;
use whatif_shared::routes::{self, Access, HeaderDoc, Param, Route, RouteDoc};
use whatif_shared::service::Service;

/// What may read Stripe's keys.
const STRIPE_KEYS: Access = Access::SecretRead(secrets::STRIPE);

pub const CREDITS: Route = Route::get("billing-credits", "/api/credits", handler!(credits::handle))
    .access(&[Access::TableRead, Access::TableWrite])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<credits::CreditsAnswer>()),
        query: &[routes::LIMIT, routes::CURSOR],
        ..RouteDoc::new("billing", "My credits: balance, plan, monthly allowance, when it renews, and the ledger")
    });

pub const PLANS: Route =
    Route::get("billing-plans", "/api/billing/plans", handler!(plans::handle)).auth(AuthLevel::None).doc(RouteDoc {
        response: Some(|g| g.subschema_for::<plans::PlansAnswer>()),
        ..RouteDoc::new("billing", "Credit packs, prices of each kind of work, and the plans' allowances and limits")
    });

pub const CHECKOUT: Route = Route::post("billing-checkout", "/api/billing/checkout", handler!(checkout::handle))
    .idempotent()
    .max_body(1024)
    .access(&[Access::TableRead, STRIPE_KEYS])
    .doc(RouteDoc {
        request: Some(|g| g.subschema_for::<checkout::CheckoutBody>()),
        response: Some(|g| g.subschema_for::<checkout::CheckoutAnswer>()),
        answers: &[(503, "Payments are not set up, or Stripe is unavailable or busy (Retry-After)")],
        ..RouteDoc::new("billing", "Buy a credit pack: a Stripe Checkout Session's URL")
    });

pub const WEBHOOK: Route = Route::post("billing-webhook", "/api/billing/webhook", handler!(webhook::handle))
    .auth(AuthLevel::None)
    .max_body(262_144)
    .access(&[Access::TableRead, Access::TableWrite, STRIPE_KEYS])
    .doc(RouteDoc {
        headers: &[HeaderDoc {
            name: "Stripe-Signature",
            description: "t=<unix seconds>,v1=<HMAC-SHA256 hex>[,v1=...]: Stripe's signature of the raw body",
            schema: Param::Text { min: 1, max: 2048 },
        }],
        answers: &[(400, "A missing, forged, malformed or stale signature (BAD_SIGNATURE), or not an event")],
        ..RouteDoc::new("billing", "Stripe's webhook: each signed event applied once (a replay answers 200)")
    });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[CREDITS, PLANS, CHECKOUT, WEBHOOK];

/// The billing service: credits, packs, Stripe.
pub const SERVICE: Service = Service { routes: ROUTES, owns: data::OWNERS, ..Service::new("billing") };
