//! `whatif-yardstick`: the yardstick of the cold-start benchmark, a minimal
//! Rust Lambda as its documentation would write one. At init it builds the
//! SDK's configuration and a DynamoDB client (no call); for each event it
//! makes one `GetItem` (table `WHATIF_TABLE_NAME`, key `YARDSTICK_PK` /
//! `YARDSTICK_SK`, strongly consistent, as `history-get` reads) and answers
//! 200 with the item's attribute names, or 404. `whatif-bench cold
//! --emulators` starts it beside `history-get` on the same harness.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let (table, pk, sk) = (var("WHATIF_TABLE_NAME")?, var("YARDSTICK_PK")?, var("YARDSTICK_SK")?);
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let (client, table, pk, sk) = (&client, &table, &pk, &sk);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let item = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S(pk.clone()))
            .key("sk", AttributeValue::S(sk.clone()))
            .consistent_read(true)
            .send()
            .await?
            .item;
        let answer = match item {
            Some(item) => {
                let mut names: Vec<&String> = item.keys().collect();
                names.sort();
                json!({"statusCode": 200, "body": json!({"attributes": names}).to_string()})
            }
            None => json!({"statusCode": 404, "body": "{}"}),
        };
        Ok::<_, Error>(answer)
    }))
    .await
}
