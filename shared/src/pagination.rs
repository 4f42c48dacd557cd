//! Pagination: `page`/`limit` (with `pagination` in the answer) and opaque
//! `cursor` (with `nextCursor`), the efficient path on DynamoDB.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::http::ApiRequest;
use crate::ports::table::Item;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
    /// The position after the last item of the previous page, when given.
    pub cursor: Option<Item>,
}

impl PageRequest {
    /// Reads `page`, `limit` and `cursor` from the query (400 when out of range).
    pub fn from_request(req: &ApiRequest) -> ApiResult<Self> {
        let number = |name: &str, default: u32, max: u32| -> ApiResult<u32> {
            match req.query_param(name) {
                None | Some("") => Ok(default),
                Some(raw) => raw
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| ApiError::validation(name, format!("must be a whole number from 1 to {max}"))),
            }
        };
        let cursor = match req.query_param("cursor") {
            None | Some("") => None,
            Some(raw) => Some(decode_cursor(raw)?),
        };
        Ok(Self { page: number("page", 1, 1_000_000)?, limit: number("limit", DEFAULT_LIMIT, MAX_LIMIT)?, cursor })
    }

    pub fn offset(&self) -> usize {
        (self.page as usize - 1) * self.limit as usize
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page: u32,
    pub limit: u32,
    pub total: u64,
    pub total_pages: u64,
    pub has_next: bool,
    pub has_prev: bool,
}

impl Pagination {
    pub fn new(page: u32, limit: u32, total: u64) -> Self {
        let total_pages = total.div_ceil(u64::from(limit.max(1)));
        Self { page, limit, total, total_pages, has_next: u64::from(page) < total_pages, has_prev: page > 1 }
    }
}

/// A position in a query, as an opaque URL-safe string.
pub fn encode_cursor(position: &Item) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

pub fn decode_cursor(raw: &str) -> ApiResult<Item> {
    let bad = || ApiError::validation("cursor", "is not a cursor this API gave out");
    if raw.len() > 2048 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    serde_json::from_slice::<Item>(&bytes).map_err(|_| bad())
}

/// One page of `items`, which are in order of a position that strictly
/// falls (newest first): after the cursor's `after` position when there is
/// one, else at `paging`'s offset. Returns the page, its `pagination` (the
/// total is every item) and the next cursor (the page's last position).
pub fn page_in_memory<'a, T>(
    items: &'a [T],
    paging: &PageRequest,
    position: impl Fn(&T) -> String,
) -> ApiResult<(&'a [T], Pagination, Option<String>)> {
    let start = match &paging.cursor {
        Some(cursor) => {
            let after = cursor
                .get("after")
                .and_then(|v| v.as_str())
                .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API gave out"))?;
            items.iter().position(|i| position(i).as_str() < after).unwrap_or(items.len())
        }
        None => paging.offset().min(items.len()),
    };
    let end = (start + paging.limit as usize).min(items.len());
    let next = (end < items.len() && end > start).then(|| {
        let mut at = Item::new();
        at.insert("after".into(), position(&items[end - 1]).into());
        encode_cursor(&at)
    });
    let page = if paging.cursor.is_some() { 1 + (start / paging.limit as usize) as u32 } else { paging.page };
    Ok((&items[start..end], Pagination::new(page, paging.limit, items.len() as u64), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn req(query: &[(&str, &str)]) -> ApiRequest {
        let mut r = ApiRequest::new(Method::GET, "/");
        r.query = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        r
    }

    #[test]
    fn reads_page_limit_and_cursor() {
        let p = PageRequest::from_request(&req(&[])).unwrap();
        assert_eq!((p.page, p.limit, p.cursor.is_none()), (1, 20, true));
        let mut item = Item::new();
        item.insert("pk".into(), "USER#1".into());
        let p = PageRequest::from_request(&req(&[("limit", "100"), ("cursor", &encode_cursor(&item))])).unwrap();
        assert_eq!(p.cursor, Some(item));
        for bad in [("limit", "0"), ("limit", "101"), ("page", "-1"), ("page", "x"), ("cursor", "!!")] {
            assert!(PageRequest::from_request(&req(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pagination_counts_pages() {
        let p = Pagination::new(2, 20, 41);
        assert_eq!((p.total_pages, p.has_next, p.has_prev), (3, true, true));
        let p = Pagination::new(1, 20, 0);
        assert_eq!((p.total_pages, p.has_next, p.has_prev), (0, false, false));
    }
}
