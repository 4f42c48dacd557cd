//! `GET /s/{shareUrl}`: the share's public page, the link people send. Chat
//! apps and social networks read its Open Graph and Twitter card tags without
//! running JavaScript; a person's browser is sent on to the web client's
//! share page (a meta refresh, and a link). It carries no script: the
//! pipeline's `Content-Security-Policy` forbids everything but navigation.

use std::sync::Arc;

use http::StatusCode;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::caching;
use crate::metadata::{Preview, preview};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let preview = preview(&ctx, req.path_param("shareUrl")?).await?;
    let etag = preview.etag("page");
    Ok(caching::cached(&req, &etag, caching::EDGE_SECONDS, || {
        Reply::bytes(StatusCode::OK, "text/html; charset=utf-8", html(&preview))
    }))
}

/// The page: every text escaped for HTML.
pub fn html(p: &Preview) -> String {
    let lang = if p.locale == "vi_VN" { "vi" } else { "en" };
    let (title, description) = (escape(&p.title), escape(&p.description));
    let (url, image, redirect) = (escape(&p.url), escape(&p.image), escape(&p.redirect_url));
    let site = escape(p.site_name);
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
<meta name="description" content="{description}">
<meta name="robots" content="noindex">
<link rel="canonical" href="{url}">
<meta property="og:type" content="{kind}">
<meta property="og:site_name" content="{site}">
<meta property="og:title" content="{title}">
<meta property="og:description" content="{description}">
<meta property="og:url" content="{url}">
<meta property="og:locale" content="{locale}">
<meta property="og:image" content="{image}">
<meta property="og:image:type" content="image/png">
<meta property="og:image:width" content="{width}">
<meta property="og:image:height" content="{height}">
<meta property="og:image:alt" content="{title}">
<meta name="twitter:card" content="{card}">
<meta name="twitter:title" content="{title}">
<meta name="twitter:description" content="{description}">
<meta name="twitter:image" content="{image}">
<meta http-equiv="refresh" content="0; url={redirect}">
</head>
<body>
<main>
<h1>{title}</h1>
<p>{description}</p>
<p><a href="{redirect}">Open it in {site}</a></p>
</main>
</body>
</html>
"#,
        kind = p.kind,
        locale = p.locale,
        width = p.image_width,
        height = p.image_height,
        card = p.twitter_card,
    )
}

/// `text` safe inside HTML text and quoted attributes.
pub fn escape(text: &str) -> String {
    whatif_shared::text::escape_markup(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_escaped() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
