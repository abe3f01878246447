//! Turning whole response bodies into results.

use bytes::Bytes;
use http::HeaderMap;

use crate::error::{ApiError, Error, ErrorBody, Result};
use crate::item::Item;
use crate::list::ItemList;
use crate::status::Status;

/// Decodes an object body (a 2xx answer to get, create, replace, patch).
///
/// The object must carry `metadata`; a `Status` or anything else is an
/// [`Error::Decode`] saying what was expected.
pub fn decode_item(body: Bytes) -> Result<Item> {
    Item::decode(body, "", "")
}

/// Decodes a list body (a 2xx answer to list).
///
/// ```
/// let list = kubewire::request::decode_list(bytes::Bytes::from_static(
///     br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7",
///          "continue":"tok","remainingItemCount":3},"items":[{"metadata":{"name":"a"}}]}"#)).unwrap();
/// assert_eq!(list.items()[0].kind(), "Pod");
/// assert_eq!(list.continue_token(), Some("tok"));
/// assert_eq!(list.remaining_item_count(), Some(3));
/// ```
pub fn decode_list(body: Bytes) -> Result<ItemList> {
    ItemList::decode(body)
}

/// Decodes a `Status` body (a dry-run delete, a delete-collection answer).
pub fn decode_status(body: &[u8]) -> Result<Status> {
    Status::from_body(body).ok_or_else(|| Error::Decode {
        expected: "a Status",
        message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    })
}

/// `Ok(())` for a 2xx status, otherwise the decoded error.
pub fn check_status(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<()> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(error_from_response(status, headers, body))
    }
}

/// The error for a non-2xx answer: [`Error::NotFound`] for a 404 naming an
/// object, otherwise [`Error::Api`] with the decoded `Status` (or the body
/// as text when it is not one) and any `Retry-After`.
pub fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let body = match Status::from_body(body) {
        Some(s) => ErrorBody::Status(Box::new(s)),
        None => ErrorBody::Text(String::from_utf8_lossy(body).into_owned()),
    };
    let retry_after = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let err = Box::new(ApiError {
        http_status: status,
        body,
        retry_after,
    });
    if status == 404 && !err.is_not_served() {
        Error::NotFound(err)
    } else {
        Error::Api(err)
    }
}

/// Checks the status of a whole response and decodes its object.
pub fn item_from_response(response: http::Response<Bytes>) -> Result<Item> {
    let (parts, body) = response.into_parts();
    check_status(parts.status.as_u16(), &parts.headers, &body)?;
    decode_item(body)
}

/// Checks the status of a whole response and decodes its list.
pub fn list_from_response(response: http::Response<Bytes>) -> Result<ItemList> {
    let (parts, body) = response.into_parts();
    check_status(parts.status.as_u16(), &parts.headers, &body)?;
    decode_list(body)
}

/// The `kind` of a JSON object body, read without decoding the rest.
pub(crate) fn body_kind(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: Option<String>,
    }
    serde_json::from_slice::<KindOnly>(body).ok()?.kind
}
