//! QR codes of a share's full URL.
